// SPDX-License-Identifier: GPL-2.0-only
/*
 * hooks.c - runs a patch's pre/post patch and unpatch hooks (kpatch.h) around its
 * enables and disables. transition.c calls these, outside stop_machine, with
 * kpatch_mutex held, so hooks of different patches never run at the same time.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

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

/* Runs the pre-patch hook; its failure cancels the enable and is recorded. */
int __kpatch_hook_pre_patch(struct kpatch_patch *patch)
{
	int (*hook)(struct kpatch_patch_desc *desc) = patch->desc->pre_patch;
	int ret;

	lockdep_assert_held(&kpatch_mutex);
	if (!hook)
		return 0;
	kpatch_hook_enter(patch);
	ret = hook(patch->desc);
	kpatch_hook_leave();
	if (!ret)
		return 0;
	if (ret > 0)	/* a hook must return a negative errno; "(%d)" shows it */
		ret = -EINVAL;
	kpatch_set_error(patch, "enable", ret, "pre-patch hook %ps failed (%d)", hook,
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
	if (!patch->desc->post_unpatch)
		return;
	kpatch_hook_enter(patch);
	patch->desc->post_unpatch(patch->desc);
	kpatch_hook_leave();
}
