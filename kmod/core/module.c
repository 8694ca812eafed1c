// SPDX-License-Identifier: GPL-2.0-only
/*
 * module.c - a patch's parts for loadable modules: applied at enable when the module
 * is loaded, by a module notifier when it loads later, reverted when it goes.
 *
 * A patch module reaches a target module's symbols through .klp.rela.<module>.*
 * relocations, which the stock loader leaves alone; the core writes them with the
 * kernel's own klp_apply_section_relocs() (not exported; kallsyms.c) from the ELF data
 * the loader keeps for livepatch-marked modules (mod->klp_info). 6.1 cannot clear
 * them again (clear_relocate_add came in 6.3) and x86's loader refuses to write a
 * non-zero target, so the core zeroes them itself when the module goes.
 *
 * Two notifiers: one runs last on MODULE_STATE_COMING, after the module's jump
 * labels, static calls and the like are set up and before any of its code runs, so a
 * switch there needs no stop_machine; the other runs first on MODULE_STATE_GOING, so
 * the module's functions are no longer redirected while other subsystems tear down.
 * If a patch cannot be applied to a module that is loading, the load is refused:
 * running the code a patch exists to replace is what a live patch must prevent.
 * A patch's hooks that belong to a module (kpatch.h, hooks_objname) run with its part
 * here: pre_patch (which may refuse the load) and post_patch on COMING, pre_unpatch
 * and post_unpatch around the revert on GOING.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/notifier.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/timekeeping.h>
#include "core.h"

#ifndef CONFIG_X86_64
#error "kpatch: module relocations are only known for x86_64"
#endif

/*
 * Modules whose COMING notifier ran and that are not live yet (kpatch_mutex): an
 * enable that finds such a module must switch it like a loaded one (its init may be
 * running); one it has not seen yet gets the patch from the notifier.
 */
struct kpatch_coming {
	struct list_head node;
	struct module *mod;
};
static LIST_HEAD(kpatch_coming_mods);

static bool kpatch_object_is(const struct kpatch_object *obj, const struct module *mod)
{
	return obj->is_module && !strcmp(obj->name, mod->name);
}

/* Bytes an x86_64 relocation writes (what must be zero before the loader writes it). */
static unsigned int kpatch_reloc_width(unsigned int type)
{
	switch (type) {
	case R_X86_64_64:
	case R_X86_64_PC64:
		return 8;
	case R_X86_64_32:
	case R_X86_64_32S:
	case R_X86_64_PC32:
	case R_X86_64_PLT32:
		return 4;
	default:
		return 0;
	}
}

/* Is section @i of the patch module one of @obj's .klp.rela.<module>.<section>? */
static bool kpatch_is_object_relasec(const struct kpatch_object *obj, unsigned int i)
{
	const struct klp_modinfo *info = obj->patch->mod->klp_info;
	const Elf_Shdr *sec = &info->sechdrs[i];
	const char *name = info->secstrings + sec->sh_name;
	size_t len = strlen(obj->name);

	return (sec->sh_flags & SHF_RELA_LIVEPATCH) &&
	       str_has_prefix(name, ".klp.rela.") &&
	       !strncmp(name + strlen(".klp.rela."), obj->name, len) &&
	       name[strlen(".klp.rela.") + len] == '.';
}

/*
 * Zeroes every target of @obj's relocations in the patch module, so the next load of
 * the module can write them again. Targets may be in read-only text: text_poke.
 */
static void kpatch_clear_relocs(struct kpatch_object *obj)
{
	static const u8 zero[8];
	const struct klp_modinfo *info = obj->patch->mod->klp_info;
	unsigned int i, j;

	mutex_lock(kpatch_syms.text_mutex);
	for (i = 1; i < info->hdr.e_shnum; i++) {
		const Elf_Shdr *sec = &info->sechdrs[i];
		const Elf_Rela *rela = (const Elf_Rela *)sec->sh_addr;
		unsigned long base;

		if (!kpatch_is_object_relasec(obj, i))
			continue;
		base = info->sechdrs[sec->sh_info].sh_addr;
		for (j = 0; j < sec->sh_size / sizeof(*rela); j++) {
			void *loc = (void *)(base + rela[j].r_offset);
			unsigned int w = kpatch_reloc_width(ELF_R_TYPE(rela[j].r_info));

			if (w && memcmp(loc, zero, w))
				kpatch_syms.text_poke(loc, zero, w);
		}
	}
	mutex_unlock(kpatch_syms.text_mutex);
	obj->reloc_mod = NULL;
}

/*
 * Writes @obj's relocations against @mod (once per loaded instance of the module):
 * the kernel resolves .klp.sym.<module>.NAME,POS among @mod's symbols and writes
 * through text_poke. On failure none stays written.
 */
static int __kpatch_write_relocs(struct kpatch_object *obj, struct module *mod)
{
	struct module *pmod = obj->patch->mod;
	const struct klp_modinfo *info = pmod->klp_info;
	unsigned int i;
	int ret;

	lockdep_assert_held(&kpatch_mutex);
	if (obj->reloc_mod == mod)
		return 0;
	if (WARN_ON(obj->reloc_mod))	/* the GOING notifier missed a module? */
		kpatch_clear_relocs(obj);
	obj->reloc_mod = mod;
	for (i = 1; i < info->hdr.e_shnum; i++) {
		if (!kpatch_is_object_relasec(obj, i))
			continue;
		ret = kpatch_syms.klp_apply_section_relocs(pmod, info->sechdrs,
							   info->secstrings,
							   pmod->core_kallsyms.strtab,
							   info->symndx, i, obj->name);
		if (ret) {
			__kpatch_set_error(obj->patch, "load", ret,
					   "cannot write relocation section '%s' for module '%s' (a symbol it needs is missing from the module? the kernel log names it)",
					   info->secstrings + info->sechdrs[i].sh_name, obj->name);
			/* undoes the sections written before */
			kpatch_clear_relocs(obj);
			return ret;
		}
	}
	return 0;
}

/* Relocations, then the functions: resolved in @mod and verified. */
static int __kpatch_prepare_object(struct kpatch_object *obj, struct module *mod)
{
	int ret;

	lockdep_assert_held(&kpatch_mutex);
	obj->mod = mod;
	ret = __kpatch_write_relocs(obj, mod);
	if (ret)
		return ret;
	/* relocations stay written on failure: valid while @mod is loaded */
	return __kpatch_resolve_object(obj);
}

static bool __kpatch_coming_seen(const struct module *mod)
{
	struct kpatch_coming *c;

	lockdep_assert_held(&kpatch_mutex);
	list_for_each_entry(c, &kpatch_coming_mods, node)
		if (c->mod == mod)
			return true;
	return false;
}

static void __kpatch_coming_forget(const struct module *mod)
{
	struct kpatch_coming *c;

	lockdep_assert_held(&kpatch_mutex);
	list_for_each_entry(c, &kpatch_coming_mods, node) {
		if (c->mod == mod) {
			list_del(&c->node);
			kfree(c);
			return;
		}
	}
}

/*
 * The module @name with a reference, if it is loaded in the sense of the enable path:
 * live, or coming and already past our notifier. NULL: the notifier will apply it.
 */
static struct module *__kpatch_get_loaded_module(const char *name)
{
	struct module *mod;

	lockdep_assert_held(&kpatch_mutex);
	mutex_lock(kpatch_syms.module_mutex);
	mod = kpatch_syms.find_module(name);
	if (mod && !(mod->state == MODULE_STATE_LIVE ||
		     (mod->state == MODULE_STATE_COMING && __kpatch_coming_seen(mod))))
		mod = NULL;
	if (mod && !try_module_get(mod))
		mod = NULL;	/* going away: its GOING notifier follows */
	mutex_unlock(kpatch_syms.module_mutex);
	return mod;
}

/*
 * For an enable of @patch: each module part whose module is loaded gets a reference
 * on it (so it stays until the switch), its relocations and its resolved, verified
 * functions; kpatch_func_present() is then true for them. On failure nothing is held.
 */
int __kpatch_objects_prepare(struct kpatch_patch *patch)
{
	unsigned int i;
	int ret;

	lockdep_assert_held(&kpatch_mutex);
	for (i = 0; i < patch->nr_objs; i++) {
		struct kpatch_object *obj = &patch->objs[i];
		struct module *mod;

		if (!obj->is_module)
			continue;
		mod = __kpatch_get_loaded_module(obj->name);
		if (!mod)
			continue;	/* pending */
		ret = __kpatch_prepare_object(obj, mod);
		if (ret) {
			__kpatch_objects_finish(patch, false);
			return ret;
		}
	}
	return 0;
}

/*
 * Ends an enable: drops the references __kpatch_objects_prepare() took. After a
 * switch (@applied) the present parts are applied and keep obj->mod to know their
 * module when it goes, the others are pending; after a failure nothing is applied.
 */
void __kpatch_objects_finish(struct kpatch_patch *patch, bool applied)
{
	unsigned int i;

	lockdep_assert_held(&kpatch_mutex);
	for (i = 0; i < patch->nr_objs; i++) {
		struct kpatch_object *obj = &patch->objs[i];

		if (!applied)
			obj->state = KPATCH_OBJECT_DISABLED;
		else if (obj->is_module && !obj->mod)
			obj->state = KPATCH_OBJECT_PENDING;
		else
			obj->state = KPATCH_OBJECT_APPLIED;
		if (!obj->mod)
			continue;
		module_put(obj->mod);
		if (!applied)
			obj->mod = NULL;
	}
}

/*
 * Takes @mod's functions out of every patch and zeroes the relocations written for
 * it. Called when @mod goes (its code no longer runs: no stop_machine needed; the
 * ftrace handlers are unregistered before ftrace forgets the module) and to undo a
 * failed apply on COMING.
 */
static void __kpatch_module_revert(struct module *mod)
{
	struct kpatch_patch *patch;
	unsigned int i;

	lockdep_assert_held(&kpatch_mutex);
	list_for_each_entry(patch, &kpatch_patches, node) {
		for (i = 0; i < patch->nr_funcs; i++) {
			struct kpatch_func *func = &patch->funcs[i];
			struct kpatch_ops *ops = func->ops;

			if (func->obj->mod != mod || !ops)
				continue;
			/* every version of this address goes: they all belong to @mod */
			ops->active = NULL;
			WRITE_ONCE(ops->target, 0);
			__kpatch_func_detach(func);
			func->old_addr = 0;
			func->old_size = 0;
		}
		__kpatch_ops_flush();
		for (i = 0; i < patch->nr_objs; i++) {
			struct kpatch_object *obj = &patch->objs[i];

			if (obj->mod == mod) {
				obj->mod = NULL;
				if (patch->enabled)
					obj->state = KPATCH_OBJECT_PENDING;
			}
			/* a leaked patch's module, which held them, is gone */
			if (obj->reloc_mod == mod && patch->registered)
				kpatch_clear_relocs(obj);
		}
	}
}

/* Attaches the functions of @obj (prepared); nothing visible until a target moves. */
static int __kpatch_attach_object(struct kpatch_object *obj)
{
	struct kpatch_patch *patch = obj->patch;
	unsigned int i;
	int ret;

	lockdep_assert_held(&kpatch_mutex);
	for (i = 0; i < patch->nr_funcs; i++) {
		if (patch->funcs[i].obj != obj)
			continue;
		ret = __kpatch_func_attach(&patch->funcs[i]);
		if (ret)
			return ret;	/* __kpatch_module_revert() detaches the others */
	}
	return 0;
}

/* Sends calls of @obj's functions to the newest enabled version: nothing runs them yet. */
static void __kpatch_switch_object(struct kpatch_object *obj)
{
	struct kpatch_patch *patch = obj->patch;
	unsigned int i;

	lockdep_assert_held(&kpatch_mutex);
	for (i = 0; i < patch->nr_funcs; i++) {
		struct kpatch_ops *ops = patch->funcs[i].ops;

		if (patch->funcs[i].obj != obj)
			continue;
		ops->active = list_first_entry(&ops->stack, struct kpatch_func, stack_node);
		/* Pairs with the READ_ONCE in kpatch_ftrace_handler() (patch.c). */
		WRITE_ONCE(ops->target, ops->active->new_addr);
	}
	obj->state = KPATCH_OBJECT_APPLIED;
}

/*
 * MODULE_STATE_COMING: applies every enabled patch's part for @mod, or refuses the
 * module's load when one cannot be applied (last_error and the kernel log say why).
 */
static int kpatch_module_coming(struct module *mod)
{
	struct kpatch_patch *patch, *failed = NULL;
	struct kpatch_coming *seen;
	const char *reason;
	u64 start = ktime_get_ns();
	unsigned int i;
	int ret = 0;

	seen = kzalloc(sizeof(*seen), GFP_KERNEL);
	if (!seen)
		return -ENOMEM;
	seen->mod = mod;
	mutex_lock(&kpatch_mutex);
	list_for_each_entry(patch, &kpatch_patches, node) {
		/* a leaked patch (forced removal, core.c) has no module left to apply */
		if (!patch->registered || !patch->enabled)
			continue;
		/* so a failure below reports itself, not an older error of the patch */
		patch->last_error[0] = '\0';
		for (i = 0; i < patch->nr_objs && !ret; i++) {
			struct kpatch_object *obj = &patch->objs[i];

			if (!kpatch_object_is(obj, mod) || WARN_ON(obj->mod))
				continue;
			ret = __kpatch_prepare_object(obj, mod);
			/* hooks of this module's part: before anything is attached */
			if (!ret && obj == patch->hooks_obj)
				ret = __kpatch_hook_pre_patch(patch);
			if (!ret)
				ret = __kpatch_attach_object(obj);
			if (!ret)
				ret = __kpatch_ops_commit(patch);
		}
		if (ret) {
			failed = patch;
			goto err;
		}
	}
	/* Every part attached: switch them all (stacking order is in the ops stacks). */
	list_for_each_entry(patch, &kpatch_patches, node)
		for (i = 0; i < patch->nr_objs; i++)
			if (patch->objs[i].mod == mod)
				__kpatch_switch_object(&patch->objs[i]);
	/* before the module's init runs, as its part is (kpatch's callbacks do the same) */
	list_for_each_entry(patch, &kpatch_patches, node)
		if (__kpatch_hooks_follow(patch, mod) && patch->hooks_active)
			__kpatch_hook_post_patch(patch);
	list_add(&seen->node, &kpatch_coming_mods);
	kpatch_stats.module_apply_ns = ktime_get_ns() - start;
	mutex_unlock(&kpatch_mutex);
	return 0;

err:
	/* undoes the parts prepared and attached so far, of every patch */
	__kpatch_module_revert(mod);
	/* undoes the pre-patch hooks that ran (not the failed one's: it did not) */
	list_for_each_entry(patch, &kpatch_patches, node)
		if (__kpatch_hooks_follow(patch, mod) && patch->hooks_active)
			__kpatch_hook_post_unpatch(patch);
	reason = strnchr(failed->last_error, KPATCH_ERR_LEN, ':');
	__kpatch_set_error(failed, "enable", ret, "refused to load module '%s': %s", mod->name,
			   reason ? reason + 2 : "its part of the patch cannot be applied");
	mutex_unlock(&kpatch_mutex);
	kfree(seen);
	return ret;
}

static int kpatch_module_notify_coming(struct notifier_block *nb, unsigned long state,
				       void *data)
{
	struct module *mod = data;

	if (state == MODULE_STATE_COMING)
		return notifier_from_errno(kpatch_module_coming(mod));
	if (state == MODULE_STATE_LIVE) {
		mutex_lock(&kpatch_mutex);
		__kpatch_coming_forget(mod);
		mutex_unlock(&kpatch_mutex);
	}
	return NOTIFY_OK;
}

/*
 * The unpatch hooks of the patches whose hooks follow @mod's part, around its revert
 * when it goes (its exit has run: the hooks see it as kpatch's callbacks do).
 */
static void __kpatch_module_hooks_going(struct module *mod, bool before)
{
	struct kpatch_patch *patch;

	lockdep_assert_held(&kpatch_mutex);
	list_for_each_entry(patch, &kpatch_patches, node) {
		if (!__kpatch_hooks_follow(patch, mod) || !patch->hooks_active)
			continue;
		if (before)
			__kpatch_hook_pre_unpatch(patch);
		else
			__kpatch_hook_post_unpatch(patch);
	}
}

static int kpatch_module_notify_going(struct notifier_block *nb, unsigned long state,
				      void *data)
{
	struct module *mod = data;

	if (state != MODULE_STATE_GOING)
		return NOTIFY_OK;
	mutex_lock(&kpatch_mutex);
	__kpatch_coming_forget(mod);	/* its init failed, or it never became live */
	__kpatch_module_hooks_going(mod, true);
	__kpatch_module_revert(mod);
	__kpatch_module_hooks_going(mod, false);
	mutex_unlock(&kpatch_mutex);
	return NOTIFY_OK;
}

/* Last on COMING, after everything the module's code relies on is set up. */
static struct notifier_block kpatch_coming_nb = {
	.notifier_call = kpatch_module_notify_coming,
	.priority = INT_MIN,
};

/* First on GOING, before other subsystems tear the module down. */
static struct notifier_block kpatch_going_nb = {
	.notifier_call = kpatch_module_notify_going,
	.priority = INT_MAX,
};

int kpatch_module_init(void)
{
	int ret;

	ret = register_module_notifier(&kpatch_coming_nb);
	if (ret)
		return ret;
	ret = register_module_notifier(&kpatch_going_nb);
	if (ret)
		/* undoes the first registration */
		unregister_module_notifier(&kpatch_coming_nb);
	return ret;
}

/* No patch is registered any more (patch modules depend on the core). */
void kpatch_module_exit(void)
{
	struct kpatch_coming *c, *tmp;

	unregister_module_notifier(&kpatch_going_nb);
	unregister_module_notifier(&kpatch_coming_nb);
	list_for_each_entry_safe(c, tmp, &kpatch_coming_mods, node)
		kfree(c);
}
