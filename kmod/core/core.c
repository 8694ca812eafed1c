// SPDX-License-Identifier: GPL-2.0-only
/*
 * core.c - the kpatch core module: patch registry and sysfs under /sys/kernel/kpatch.
 * Patch modules call kpatch_register_patch() from their init and
 * kpatch_unregister_patch() from their exit (see kpatch.h). Errors and statistics are
 * kept by report.c; no other file of the core calls into this one.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kobject.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/sysfs.h>
#include <linux/timekeeping.h>
#include "core.h"

LIST_HEAD(kpatch_patches);
static unsigned long kpatch_next_order = 1;
static struct kobject *kpatch_root_kobj;

/* ---- per-patch sysfs: /sys/kernel/kpatch/<patch>/ ---- */

#define to_patch(k) container_of(k, struct kpatch_patch, kobj)

static ssize_t enabled_show(struct kobject *kobj, struct kobj_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%d\n", READ_ONCE(to_patch(kobj)->enabled));
}

static ssize_t enabled_store(struct kobject *kobj, struct kobj_attribute *attr,
			     const char *buf, size_t count)
{
	struct kpatch_patch *patch = to_patch(kobj);
	bool enable;
	int ret;

	ret = kstrtobool(buf, &enable);
	mutex_lock(&kpatch_mutex);
	__kpatch_clear_error(patch);
	if (ret) {
		/* Say why the write failed: a caller sees only -EINVAL from write(2). */
		__kpatch_set_error(patch, "write", ret,
				   "'enabled' takes 1 or 0, not the value written");
	} else if (!patch->registered) {
		ret = -ENODEV;
		__kpatch_set_error(patch, enable ? "enable" : "disable", ret,
				   "its module '%s' is being removed", patch->name);
	} else if (enable) {
		ret = __kpatch_enable_patch(patch);
	} else {
		ret = __kpatch_disable_patch(patch);
	}
	mutex_unlock(&kpatch_mutex);
	return ret ? ret : count;
}

static ssize_t patch_last_error_show(struct kobject *kobj, struct kobj_attribute *attr,
				     char *buf)
{
	ssize_t len;

	mutex_lock(&kpatch_mutex);
	len = sysfs_emit(buf, "%s\n", to_patch(kobj)->last_error);
	mutex_unlock(&kpatch_mutex);
	return len;
}

static ssize_t order_show(struct kobject *kobj, struct kobj_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%lu\n", to_patch(kobj)->order);
}

static ssize_t replace_show(struct kobject *kobj, struct kobj_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%d\n", to_patch(kobj)->replace);
}

/* One patch name per line; empty when none. */
static ssize_t replaced_patches_show(struct kobject *kobj, struct kobj_attribute *attr,
				     char *buf)
{
	const char *names;
	ssize_t len;

	mutex_lock(&kpatch_mutex);
	names = to_patch(kobj)->replaced_patches;
	len = sysfs_emit(buf, "%s", names ? names : "");
	mutex_unlock(&kpatch_mutex);
	return len;
}

static ssize_t replaced_by_show(struct kobject *kobj, struct kobj_attribute *attr,
				char *buf)
{
	const char *name;
	ssize_t len;

	mutex_lock(&kpatch_mutex);
	name = to_patch(kobj)->replaced_by;
	len = name ? sysfs_emit(buf, "%s\n", name) : 0;
	mutex_unlock(&kpatch_mutex);
	return len;
}

static struct kobj_attribute enabled_attr = __ATTR_RW(enabled);
static struct kobj_attribute patch_last_error_attr =
	__ATTR(last_error, 0444, patch_last_error_show, NULL);
static struct kobj_attribute order_attr = __ATTR_RO(order);
static struct kobj_attribute replace_attr = __ATTR_RO(replace);
static struct kobj_attribute replaced_patches_attr = __ATTR_RO(replaced_patches);
static struct kobj_attribute replaced_by_attr = __ATTR_RO(replaced_by);

static struct attribute *kpatch_patch_attrs[] = {
	&enabled_attr.attr, &patch_last_error_attr.attr, &order_attr.attr,
	&replace_attr.attr, &replaced_patches_attr.attr, &replaced_by_attr.attr, NULL,
};
ATTRIBUTE_GROUPS(kpatch_patch);

static void kpatch_patch_free(struct kpatch_patch *patch)
{
	unsigned int i;

	if (patch->funcs)
		for (i = 0; i < patch->nr_funcs; i++) {
			kfree(patch->funcs[i].old_name);
			kfree(patch->funcs[i].old_cold_name);
		}
	kpatch_objects_free(patch);
	kfree(patch->replaced_patches);
	kfree(patch->replaced_by);
	kfree(patch->funcs);
	kfree(patch->name);
	kfree(patch);
}

static void kpatch_patch_release(struct kobject *kobj)
{
	kpatch_patch_free(to_patch(kobj));
}

static struct kobj_type kpatch_patch_ktype = {
	.release = kpatch_patch_release,
	.sysfs_ops = &kobj_sysfs_ops,
	.default_groups = kpatch_patch_groups,
};

/* ---- global sysfs: /sys/kernel/kpatch/ ---- */

static struct attribute *kpatch_root_attrs[] = {
	&kpatch_shadow_count_attr.attr, &kpatch_nudged_attr.attr, NULL,
};
static const struct attribute_group kpatch_root_group = { .attrs = kpatch_root_attrs };
/* The statistics and last_error (report.c), and the counters of shadow.c and nudge.c. */
static const struct attribute_group *kpatch_root_groups[] = {
	&kpatch_stats_group, &kpatch_root_group, NULL,
};

/* ---- registration ---- */

/* NULL or "vmlinux" is the kernel image; else a module name. */
static bool kpatch_is_vmlinux(const char *objname)
{
	return !objname || !strcmp(objname, "vmlinux");
}

/*
 * A module name as the kernel's .klp.rela/.klp.sym names carry it: no '.', which
 * ends the name there, and shorter than MODULE_NAME_LEN.
 */
static bool kpatch_objname_ok(const char *objname)
{
	return kpatch_is_vmlinux(objname) ||
	       (*objname && !strpbrk(objname, "./") &&
		strnlen(objname, MODULE_NAME_LEN) < MODULE_NAME_LEN);
}

/* A name for messages about @desc before it is known to be valid. */
static const char *kpatch_desc_name(const struct kpatch_patch_desc *desc)
{
	return desc && desc->name && *desc->name ? desc->name : "(unnamed)";
}

/*
 * Hooks that belong to a module follow that module's part of the patch, so the patch
 * must have one (a patch of only callbacks for a module has nothing to follow).
 */
static int __kpatch_check_hooks_objname(const struct kpatch_patch_desc *desc)
{
	const char *objname = desc->hooks_objname;
	unsigned int i;

	lockdep_assert_held(&kpatch_mutex);
	if (kpatch_is_vmlinux(objname))
		return 0;
	if (kpatch_objname_ok(objname))
		for (i = 0; i < desc->nr_funcs; i++)
			if (desc->funcs[i].objname && !strcmp(desc->funcs[i].objname, objname))
				return 0;
	__kpatch_set_error_name(desc->name, "load", -EINVAL,
				"its hooks belong to module '%s', of which it replaces no function (hooks follow their module's part of the patch)",
				objname);
	return -EINVAL;
}

/* Refuses a malformed description, saying what is wrong. Caller holds kpatch_mutex. */
static int __kpatch_check_desc(const struct kpatch_patch_desc *desc)
{
	const char *name = kpatch_desc_name(desc);
	unsigned int i;

	lockdep_assert_held(&kpatch_mutex);
	if (!desc || !desc->name || !*desc->name || strchr(desc->name, '/') ||
	    !desc->mod || !desc->funcs || !desc->nr_funcs) {
		__kpatch_set_error_name(name, "load", -EINVAL,
					"invalid patch description (name, module or functions missing, or '/' in the name)");
		return -EINVAL;
	}
	if (desc->flags & ~KPATCH_PATCH_FLAGS) {
		__kpatch_set_error_name(name, "load", -EINVAL,
					"unknown patch flags 0x%lx (built for a newer core? update kpatch.ko)",
					desc->flags & ~KPATCH_PATCH_FLAGS);
		return -EINVAL;
	}
	for (i = 0; i < desc->nr_funcs; i++) {
		const struct kpatch_func_desc *f = &desc->funcs[i];

		if (!f->old_name || !*f->old_name || !f->new_func ||
		    (f->objname && (!*f->objname || strchr(f->objname, '/'))) ||
		    (f->old_cold_name && !*f->old_cold_name) ||
		    (f->flags & ~(KPATCH_FUNC_NO_STACK_CHECK | KPATCH_FUNC_VERIFY_PADDING)) ||
		    (f->verify_len && (!f->verify_bytes || !f->verify_mask ||
				       f->verify_len > f->old_size)) ||
		    !kpatch_objname_ok(f->objname)) {
			__kpatch_set_error_name(name, "load", -EINVAL,
						"invalid function entry %u ('%s')", i,
						f->old_name ? f->old_name : "");
			return -EINVAL;
		}
		/*
		 * Relocations against a module's symbols are written when it loads, from
		 * the ELF data the loader keeps only for livepatch-marked modules.
		 */
		if (!kpatch_is_vmlinux(f->objname) && !desc->mod->klp) {
			__kpatch_set_error_name(name, "load", -EINVAL,
						"it replaces functions of module '%s' but is not marked MODULE_INFO(livepatch, \"Y\"); rebuild it with kpatch-build",
						f->objname);
			return -EINVAL;
		}
	}
	return __kpatch_check_hooks_objname(desc);
}

static struct kpatch_patch *kpatch_patch_alloc(struct kpatch_patch_desc *desc)
{
	struct kpatch_patch *patch;
	unsigned int i;

	patch = kzalloc(sizeof(*patch), GFP_KERNEL);
	if (!patch)
		return NULL;
	patch->desc = desc;
	patch->mod = desc->mod;
	patch->nr_funcs = desc->nr_funcs;
	patch->replace = desc->flags & KPATCH_PATCH_REPLACE;
	INIT_LIST_HEAD(&patch->node);
	patch->name = kstrdup(desc->name, GFP_KERNEL);
	patch->funcs = kcalloc(desc->nr_funcs, sizeof(*patch->funcs), GFP_KERNEL);
	if (!patch->name || !patch->funcs)
		goto err;
	for (i = 0; i < desc->nr_funcs; i++) {
		struct kpatch_func *f = &patch->funcs[i];

		f->patch = patch;
		f->old_name = kstrdup(desc->funcs[i].old_name, GFP_KERNEL);
		if (!f->old_name)
			goto err;
		if (desc->funcs[i].old_cold_name) {
			f->old_cold_name = kstrdup(desc->funcs[i].old_cold_name, GFP_KERNEL);
			if (!f->old_cold_name)
				goto err;
		}
		f->old_cold_sympos = desc->funcs[i].old_cold_sympos;
		f->new_cold_addr = (unsigned long)desc->funcs[i].new_cold;
		f->sympos = desc->funcs[i].sympos;
		f->flags = desc->funcs[i].flags;
		f->new_addr = (unsigned long)desc->funcs[i].new_func;
		f->obj_size = desc->funcs[i].old_size;
		f->verify_bytes = desc->funcs[i].verify_bytes;
		f->verify_mask = desc->funcs[i].verify_mask;
		f->verify_len = desc->funcs[i].verify_len;
		INIT_LIST_HEAD(&f->stack_node);
	}
	if (kpatch_objects_init(patch))
		goto err;
	return patch;
err:
	kpatch_patch_free(patch);
	return NULL;
}

/* Resolves the vmlinux part now; a module's part is resolved each time it applies. */
static int __kpatch_resolve_patch(struct kpatch_patch *patch)
{
	unsigned int i;

	lockdep_assert_held(&kpatch_mutex);
	for (i = 0; i < patch->nr_objs; i++)
		if (!patch->objs[i].is_module)
			return __kpatch_resolve_object(&patch->objs[i]);
	return 0;
}

static struct kpatch_patch *__kpatch_find_patch(const char *name)
{
	struct kpatch_patch *patch;

	lockdep_assert_held(&kpatch_mutex);
	list_for_each_entry(patch, &kpatch_patches, node)
		if (!strcmp(patch->name, name))
			return patch;
	return NULL;
}

int kpatch_register_patch(struct kpatch_patch_desc *desc)
{
	struct kpatch_patch *patch;
	u64 start, resolved, added;
	int ret;

	mutex_lock(&kpatch_mutex);
	start = ktime_get_ns();
	__kpatch_clear_error(NULL);
	ret = __kpatch_check_desc(desc);
	if (ret)
		goto err_unlock;
	if (desc->core_private) {
		ret = -EEXIST;
		__kpatch_set_error_name(desc->name, "load", ret,
					"this description is already registered");
		goto err_unlock;
	}
	patch = kpatch_patch_alloc(desc);
	if (!patch) {
		ret = -ENOMEM;
		__kpatch_set_error_name(desc->name, "load", ret,
					"no memory for %u functions", desc->nr_funcs);
		goto err_unlock;
	}
	if (__kpatch_find_patch(patch->name)) {
		__kpatch_set_error(patch, "load", -EEXIST, "a patch of that name is registered");
		ret = -EEXIST;
		goto err_free;
	}
	/* before anything of the patch runs: its hooks may use what they refer to */
	ret = __kpatch_write_vmlinux_relocs(patch);
	if (ret)
		goto err_free;
	ret = __kpatch_resolve_patch(patch);
	if (ret)
		goto err_free;
	resolved = ktime_get_ns();
	ret = kobject_init_and_add(&patch->kobj, &kpatch_patch_ktype, kpatch_root_kobj,
				   "%s", patch->name);
	if (ret) {
		__kpatch_set_error(patch, "load", ret, "cannot create its sysfs directory");
		goto err_put;
	}
	ret = __kpatch_sysfs_add(patch);
	if (ret)
		goto err_put;
	patch->order = kpatch_next_order++;
	patch->registered = true;
	list_add_tail(&patch->node, &kpatch_patches);
	added = ktime_get_ns();
	ret = __kpatch_enable_patch(patch);
	if (ret)
		goto err_unlist;
	desc->core_private = patch;
	kpatch_stats.enable_ns = ktime_get_ns() - added;
	kpatch_stats.sysfs_ns = added - resolved;
	kpatch_stats.resolve_ns = resolved - start;
	kpatch_stats.register_ns = ktime_get_ns() - start;
	mutex_unlock(&kpatch_mutex);
	pr_info("patch '%s' enabled\n", patch->name);
	return 0;

err_unlist:
	/* undoes list_add_tail(); enabled sysfs writes now see !registered */
	list_del(&patch->node);
	patch->registered = false;
err_put:
	mutex_unlock(&kpatch_mutex);
	/*
	 * undoes kobject_init_and_add() and __kpatch_sysfs_add() (the patch's release frees
	 * it); outside the mutex because removing the sysfs files waits for running
	 * handlers, which take it
	 */
	kpatch_sysfs_put(patch);
	return ret;
err_free:
	/* undoes kpatch_patch_alloc(); nothing else was set up */
	kpatch_patch_free(patch);
err_unlock:
	mutex_unlock(&kpatch_mutex);
	return ret;
}
EXPORT_SYMBOL_GPL(kpatch_register_patch);

/*
 * The module of an enabled patch is going away (rmmod -f: an enabled patch holds its
 * module) and its functions could not be switched back. Its kpatch_funcs stay linked
 * into the ops stacks, so nothing of the patch is freed: it stays listed, in sysfs
 * (enabled 1, writes refused) and the core pins itself, since unloading it would free
 * ftrace handlers that the kernel still calls. Caller holds kpatch_mutex.
 */
static void __kpatch_leak_patch(struct kpatch_patch *patch)
{
	lockdep_assert_held(&kpatch_mutex);
	patch->registered = false;
	patch->desc = NULL;	/* in the module being freed; no hook may run */
	__module_get(THIS_MODULE);
	pr_emerg("patch '%s' was removed by force while enabled and its functions could not be switched back: its state is leaked, calls to them go into freed memory and the kernel will likely crash; reboot\n",
		 patch->name);
}

void kpatch_unregister_patch(struct kpatch_patch_desc *desc)
{
	struct kpatch_patch *patch = desc ? desc->core_private : NULL;

	if (WARN_ON(!patch))
		return;
	mutex_lock(&kpatch_mutex);
	desc->core_private = NULL;
	/*
	 * An enabled patch holds its module, so we get here enabled only through a
	 * forced removal: switch back if no task is in its code.
	 */
	if (patch->enabled) {
		pr_warn("patch '%s' removed by force while enabled; disabling it\n",
			patch->name);
		__kpatch_clear_error(patch);
		if (__kpatch_disable_patch(patch)) {
			__kpatch_leak_patch(patch);
			mutex_unlock(&kpatch_mutex);
			return;
		}
	}
	list_del(&patch->node);
	patch->registered = false;
	mutex_unlock(&kpatch_mutex);
	/* Outside the mutex: see the error path of kpatch_register_patch(). */
	kpatch_sysfs_put(patch);
	pr_info("patch '%s' unregistered\n", desc->name);
}
EXPORT_SYMBOL_GPL(kpatch_unregister_patch);

static int __init kpatch_init(void)
{
	int ret;

	ret = kpatch_syms_init();
	if (ret)
		return ret;
	ret = kpatch_shadow_init();
	if (ret)
		return ret;
	kpatch_root_kobj = kobject_create_and_add("kpatch", kernel_kobj);
	if (!kpatch_root_kobj) {
		ret = -ENOMEM;
		goto err_shadow;
	}
	ret = sysfs_create_groups(kpatch_root_kobj, kpatch_root_groups);
	if (ret)
		goto err_kobj;
	ret = kpatch_module_init();
	if (ret)
		goto err_group;
	return 0;

err_group:
	/* undoes sysfs_create_groups() */
	sysfs_remove_groups(kpatch_root_kobj, kpatch_root_groups);
err_kobj:
	/* undoes kobject_create_and_add() */
	kobject_put(kpatch_root_kobj);
err_shadow:
	/* undoes kpatch_shadow_init() (its notifier; nothing is allocated yet) */
	kpatch_shadow_exit();
	return ret;
}

static void __exit kpatch_exit(void)
{
	/* Patch modules depend on us, and a leaked patch pins us: none is left. */
	WARN_ON(!list_empty(&kpatch_patches));
	kpatch_module_exit();
	kpatch_ops_exit();
	sysfs_remove_groups(kpatch_root_kobj, kpatch_root_groups);
	kobject_put(kpatch_root_kobj);
	kpatch_nudge_exit();
	kpatch_shadow_exit();
}

module_init(kpatch_init);
module_exit(kpatch_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kpatch core: live patching of kernel functions under stop_machine");
