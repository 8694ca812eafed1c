// SPDX-License-Identifier: GPL-2.0-only
/*
 * object.c - a patch's objects (vmlinux, modules) and functions, and their sysfs
 * directories /sys/kernel/kpatch/<patch>/<object>/<function>,<sympos>/ (layout in
 * doc/interfaces.md). One directory per function has no size limit, unlike one file
 * listing them all (a sysfs file is one page).
 *
 * Lifetime: the objects and functions live in arrays owned by the patch and freed by
 * the release of the patch's kobject. Each child kobject holds a reference on its
 * parent until its own release (kobject_cleanup() drops it last), so the patch's
 * release runs only after every function's and object's: the children's releases
 * have nothing to free.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kobject.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/sysfs.h>
#include "core.h"

static const char *const kpatch_object_states[] = {
	[KPATCH_OBJECT_DISABLED] = "disabled",
	[KPATCH_OBJECT_APPLIED] = "applied",
	[KPATCH_OBJECT_PENDING] = "pending",
};

static const char *kpatch_objname(const struct kpatch_func_desc *f)
{
	return f->objname ? f->objname : "vmlinux";
}

/*
 * Groups the patch's functions by object: one kpatch_object per distinct objname
 * (NULL is vmlinux), in the order of first appearance. The patch is not registered
 * yet; everything allocated here is freed by kpatch_objects_free().
 */
int kpatch_objects_init(struct kpatch_patch *patch)
{
	const struct kpatch_func_desc *descs = patch->desc->funcs;
	unsigned int i, j;

	patch->objs = kcalloc(patch->nr_funcs, sizeof(*patch->objs), GFP_KERNEL);
	if (!patch->objs)
		return -ENOMEM;
	for (i = 0; i < patch->nr_funcs; i++) {
		const char *name = kpatch_objname(&descs[i]);
		struct kpatch_object *obj = NULL;

		for (j = 0; j < patch->nr_objs; j++)
			if (!strcmp(patch->objs[j].name, name))
				obj = &patch->objs[j];
		if (!obj) {
			obj = &patch->objs[patch->nr_objs];
			obj->name = kstrdup(name, GFP_KERNEL);
			if (!obj->name)
				return -ENOMEM;	/* kpatch_objects_free() frees the rest */
			obj->patch = patch;
			obj->is_module = strcmp(name, "vmlinux") != 0;
			obj->state = KPATCH_OBJECT_DISABLED;
			patch->nr_objs++;
		}
		obj->nr_funcs++;
		patch->funcs[i].obj = obj;
		/* core.c checked that a module the hooks belong to is one of the objects */
		if (obj->is_module && patch->desc->hooks_objname &&
		    !strcmp(obj->name, patch->desc->hooks_objname))
			patch->hooks_obj = obj;
	}
	return 0;
}

void kpatch_objects_free(struct kpatch_patch *patch)
{
	unsigned int i;

	for (i = 0; patch->objs && i < patch->nr_objs; i++)
		kfree(patch->objs[i].name);
	kfree(patch->objs);
	patch->objs = NULL;
}

void __kpatch_objects_set_state(struct kpatch_patch *patch, enum kpatch_object_state state)
{
	unsigned int i;

	lockdep_assert_held(&kpatch_mutex);
	for (i = 0; i < patch->nr_objs; i++)
		patch->objs[i].state = state;
}

/* ---- <patch>/<object>/ ---- */

#define to_object(k) container_of(k, struct kpatch_object, kobj)

static ssize_t state_show(struct kobject *kobj, struct kobj_attribute *attr, char *buf)
{
	ssize_t len;

	mutex_lock(&kpatch_mutex);
	len = sysfs_emit(buf, "%s\n", kpatch_object_states[to_object(kobj)->state]);
	mutex_unlock(&kpatch_mutex);
	return len;
}

static struct kobj_attribute state_attr = __ATTR_RO(state);

static struct attribute *kpatch_object_attrs[] = { &state_attr.attr, NULL };
ATTRIBUTE_GROUPS(kpatch_object);

/* The memory belongs to the patch (see the top of this file). */
static void kpatch_child_release(struct kobject *kobj)
{
}

static struct kobj_type kpatch_object_ktype = {
	.release = kpatch_child_release,
	.sysfs_ops = &kobj_sysfs_ops,
	.default_groups = kpatch_object_groups,
};

/* ---- <patch>/<object>/<function>,<sympos>/ ---- */

#define to_func(k) container_of(k, struct kpatch_func, kobj)

static ssize_t active_show(struct kobject *kobj, struct kobj_attribute *attr, char *buf)
{
	const struct kpatch_func *f = to_func(kobj);
	ssize_t len;

	mutex_lock(&kpatch_mutex);
	len = sysfs_emit(buf, "%d\n", f->ops && f->ops->active == f);
	mutex_unlock(&kpatch_mutex);
	return len;
}

/* Addresses are fixed once registered; the files are 0400 (KASLR). */
static ssize_t old_addr_show(struct kobject *kobj, struct kobj_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "0x%lx\n", to_func(kobj)->old_addr);
}

static ssize_t new_addr_show(struct kobject *kobj, struct kobj_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "0x%lx\n", to_func(kobj)->new_addr);
}

static struct kobj_attribute active_attr = __ATTR_RO(active);
static struct kobj_attribute old_addr_attr = __ATTR(old_addr, 0400, old_addr_show, NULL);
static struct kobj_attribute new_addr_attr = __ATTR(new_addr, 0400, new_addr_show, NULL);

static struct attribute *kpatch_func_attrs[] = {
	&active_attr.attr, &old_addr_attr.attr, &new_addr_attr.attr, NULL,
};
ATTRIBUTE_GROUPS(kpatch_func);

static struct kobj_type kpatch_func_ktype = {
	.release = kpatch_child_release,
	.sysfs_ops = &kobj_sysfs_ops,
	.default_groups = kpatch_func_groups,
};

/*
 * Adds the object and function directories below the patch's (already in sysfs).
 * On failure the ones added stay marked for kpatch_sysfs_put(). Caller holds
 * kpatch_mutex (adding does not wait for handlers).
 */
int __kpatch_sysfs_add(struct kpatch_patch *patch)
{
	unsigned int i;
	int ret;

	lockdep_assert_held(&kpatch_mutex);
	for (i = 0; i < patch->nr_objs; i++) {
		struct kpatch_object *obj = &patch->objs[i];

		ret = kobject_init_and_add(&obj->kobj, &kpatch_object_ktype, &patch->kobj,
					   "%s", obj->name);
		if (ret) {
			kobject_put(&obj->kobj);	/* undoes kobject_init_and_add() */
			__kpatch_set_error(patch, "load", ret,
					   "cannot create the sysfs directory of object '%s'",
					   obj->name);
			return ret;
		}
		obj->kobj_added = true;
	}
	for (i = 0; i < patch->nr_funcs; i++) {
		struct kpatch_func *f = &patch->funcs[i];

		ret = kobject_init_and_add(&f->kobj, &kpatch_func_ktype, &f->obj->kobj,
					   "%s,%lu", f->old_name, f->sympos);
		if (ret) {
			kobject_put(&f->kobj);		/* undoes kobject_init_and_add() */
			__kpatch_set_error(patch, "load", ret,
					   "cannot create the sysfs directory of function '%s'",
					   f->old_name);
			return ret;
		}
		f->kobj_added = true;
	}
	return 0;
}

/* Puts every kobject of the patch, children first; the patch's release frees it. */
void kpatch_sysfs_put(struct kpatch_patch *patch)
{
	unsigned int i;

	for (i = 0; i < patch->nr_funcs; i++)
		if (patch->funcs[i].kobj_added)
			kobject_put(&patch->funcs[i].kobj);
	for (i = 0; i < patch->nr_objs; i++)
		if (patch->objs[i].kobj_added)
			kobject_put(&patch->objs[i].kobj);
	kobject_put(&patch->kobj);
}
