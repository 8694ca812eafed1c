// SPDX-License-Identifier: GPL-2.0-only
/*
 * hooks.c - runs a patch's pre/post patch and unpatch hooks (kpatch.h) around its
 * enables and disables, or, when they belong to a module (desc->hooks_objname), around
 * the apply and revert of that module's part. transition.c and module.c call these,
 * outside stop_machine, with kpatch_mutex held, so hooks of different patches never
 * run at the same time.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/string.h>
#include "core.h"

/* The hook running now and its patch module (kpatch_mutex; read by shadow.c). */
struct task_struct *kpatch_hook_task;
struct module *kpatch_hook_mod;

/*
 * A hook's shadow calls count as its patch module's, even when the compiler turned
 * the hook's last call into a jump (then the return address is ours, not the patch's).
 */
static void kpatch_hook_enter(struct kpatch_patch *patch)
{
	WRITE_ONCE(kpatch_hook_mod, patch->mod);
	WRITE_ONCE(kpatch_hook_task, current);
}

static void kpatch_hook_leave(void)
{
	WRITE_ONCE(kpatch_hook_task, NULL);
	WRITE_ONCE(kpatch_hook_mod, NULL);
}

/*
 * Is the hooks' object there for an enable or disable of @patch: always for the patch
 * as a whole, else when the module is loaded (obj->mod, set between
 * __kpatch_objects_prepare() and the disable).
 */
bool __kpatch_hooks_present(const struct kpatch_patch *patch)
{
	lockdep_assert_held(&kpatch_mutex);
	return !patch->hooks_obj || patch->hooks_obj->mod;
}

/* Do @patch's hooks follow module @mod's part (module.c runs them then)? */
bool __kpatch_hooks_follow(const struct kpatch_patch *patch, const struct module *mod)
{
	lockdep_assert_held(&kpatch_mutex);
	/* a leaked patch (core.c) has no desc left: no hook may run */
	return patch->registered && patch->hooks_obj &&
	       !strcmp(patch->hooks_obj->name, mod->name);
}

/*
 * Runs the pre-patch hook; its failure cancels the enable (or the module's load) and is
 * recorded. On success the hooks are active until post_unpatch.
 */
int __kpatch_hook_pre_patch(struct kpatch_patch *patch)
{
	int (*hook)(struct kpatch_patch_desc *desc) = patch->desc->pre_patch;
	int ret;

	lockdep_assert_held(&kpatch_mutex);
	if (WARN_ON(patch->hooks_active))	/* a pre_patch without its post_unpatch */
		return -EINVAL;
	if (!hook) {
		patch->hooks_active = true;
		return 0;
	}
	kpatch_hook_enter(patch);
	ret = hook(patch->desc);
	kpatch_hook_leave();
	if (!ret) {
		patch->hooks_active = true;
		return 0;
	}
	if (ret > 0)	/* a hook must return a negative errno; "(%d)" shows it */
		ret = -EINVAL;
	__kpatch_set_error(patch, "enable", ret, "pre-patch hook %ps failed (%d)", hook,
			   ret);
	return ret;
}

void __kpatch_hook_post_patch(struct kpatch_patch *patch)
{
	lockdep_assert_held(&kpatch_mutex);
	if (!patch->desc->post_patch)
		return;
	kpatch_hook_enter(patch);
	patch->desc->post_patch(patch->desc);
	kpatch_hook_leave();
}

void __kpatch_hook_pre_unpatch(struct kpatch_patch *patch)
{
	lockdep_assert_held(&kpatch_mutex);
	if (!patch->desc->pre_unpatch)
		return;
	kpatch_hook_enter(patch);
	patch->desc->pre_unpatch(patch->desc);
	kpatch_hook_leave();
}

void __kpatch_hook_post_unpatch(struct kpatch_patch *patch)
{
	lockdep_assert_held(&kpatch_mutex);
	patch->hooks_active = false;
	if (!patch->desc->post_unpatch)
		return;
	kpatch_hook_enter(patch);
	patch->desc->post_unpatch(patch->desc);
	kpatch_hook_leave();
}
