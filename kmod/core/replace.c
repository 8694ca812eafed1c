// SPDX-License-Identifier: GPL-2.0-only
/*
 * replace.c - cumulative patches (KPATCH_PATCH_REPLACE): which enabled patches an
 * enable replaces, and what happens to them around the switch. transition.c plans
 * and runs the switch itself (the new patch's functions, and every function that only
 * the replaced patches change going back to the original) in one stop_machine.
 *
 * The replaced patches are treated as if each were disabled in that same switch: their
 * pre-unpatch hooks run before it, their post-unpatch hooks after it (or their
 * post-patch hooks when it fails), so the hook contract of kpatch.h holds for them
 * too. Shadow data a cumulative patch takes over survives their free_all through its
 * own claim (shadow.c). Unlike a disabled patch, a replaced one cannot be enabled
 * again: it would put back code the cumulative patch superseded.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/slab.h>
#include <linux/string.h>
#include "core.h"

static void kpatch_replace_free(struct kpatch_replace *rep)
{
	unsigned int i;

	for (i = 0; rep->by && i < rep->nr; i++)
		kfree(rep->by[i]);
	kfree(rep->by);
	kfree(rep->old);
	kfree(rep->names);
	memset(rep, 0, sizeof(*rep));
}

/* Allocates @rep for @nr patches whose names take @len bytes, one per line. */
static int __kpatch_replace_alloc(struct kpatch_patch *patch, struct kpatch_replace *rep,
				  unsigned int nr, size_t len)
{
	struct kpatch_patch *old;

	lockdep_assert_held(&kpatch_mutex);
	rep->old = kcalloc(nr ?: 1, sizeof(*rep->old), GFP_KERNEL);
	rep->by = kcalloc(nr ?: 1, sizeof(*rep->by), GFP_KERNEL);
	rep->names = kzalloc(len + 1, GFP_KERNEL);
	if (!rep->old || !rep->by || !rep->names)
		return -ENOMEM;
	list_for_each_entry(old, &kpatch_patches, node) {
		if (old == patch || !old->enabled)
			continue;
		rep->by[rep->nr] = kstrdup(patch->name, GFP_KERNEL);
		if (!rep->by[rep->nr])
			return -ENOMEM;
		rep->old[rep->nr++] = old;
		rep->nr_funcs += old->nr_funcs;
		strcat(rep->names, old->name);
		strcat(rep->names, "\n");
	}
	return 0;
}

/*
 * Collects every enabled patch but @patch (oldest first: kpatch_patches is in
 * registration order) and runs their pre-unpatch hooks. On failure nothing ran and
 * nothing is held. Caller holds kpatch_mutex.
 */
int __kpatch_replace_begin(struct kpatch_patch *patch, struct kpatch_replace *rep)
{
	struct kpatch_patch *old;
	unsigned int i, nr = 0;
	size_t len = 0;
	int ret;

	lockdep_assert_held(&kpatch_mutex);
	memset(rep, 0, sizeof(*rep));
	list_for_each_entry(old, &kpatch_patches, node) {
		if (old == patch || !old->enabled)
			continue;
		/* its module is gone; its functions cannot be taken over safely (core.c) */
		if (!old->registered) {
			__kpatch_set_error(patch, "enable", -EBUSY,
					   "patch '%s' was removed by force while enabled and leaked: it cannot be replaced; reboot",
					   old->name);
			return -EBUSY;
		}
		nr++;
		len += strlen(old->name) + 1;
	}
	ret = __kpatch_replace_alloc(patch, rep, nr, len);
	if (ret) {
		__kpatch_set_error(patch, "enable", ret,
				   "no memory to record the %u patches it replaces", nr);
		kpatch_replace_free(rep);
		return ret;
	}
	/* hooks of a module's part that is not loaded are not active (module.c) */
	for (i = 0; i < rep->nr; i++)
		if (rep->old[i]->hooks_active)
			__kpatch_hook_pre_unpatch(rep->old[i]);
	return 0;
}

/* The switch did not happen: the replaced patches still run. */
void __kpatch_replace_cancel(struct kpatch_replace *rep)
{
	unsigned int i = rep->nr;

	lockdep_assert_held(&kpatch_mutex);
	/* undoes the pre-unpatch hooks, newest first */
	while (i--)
		if (rep->old[i]->hooks_active)
			__kpatch_hook_post_patch(rep->old[i]);
	kpatch_replace_free(rep);
}

/*
 * The switch happened: no function of the replaced patches runs any more. Each is now
 * disabled and records who replaced it; @patch records what it replaced.
 */
void __kpatch_replace_finish(struct kpatch_patch *patch, struct kpatch_replace *rep)
{
	unsigned int i;

	lockdep_assert_held(&kpatch_mutex);
	for (i = 0; i < rep->nr; i++) {
		struct kpatch_patch *old = rep->old[i];

		__kpatch_patch_retire(old);
		old->replaced_by = rep->by[i];
		rep->by[i] = NULL;
		if (old->hooks_active)
			__kpatch_hook_post_unpatch(old);
		/* the reference its enable took: its module may be removed now */
		module_put(old->mod);
		pr_info("patch '%s' replaced by '%s'\n", old->name, patch->name);
	}
	kfree(patch->replaced_patches);
	patch->replaced_patches = rep->names;
	rep->names = NULL;
	kpatch_replace_free(rep);
}
