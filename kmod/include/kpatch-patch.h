/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * kpatch-patch.h - macros for the source of a live patch built by kpatch-build.
 *
 * A patch file may add `#include "kpatch-patch.h"` to the kernel file it changes;
 * kpatch-build puts this header's directory on the include path of the patched build
 * (and only there: the original build never sees it). Everything here only emits
 * data into sections named below, which create-diff-object and the generated
 * patch-module source read (doc/interfaces.md, "Patch-source macros"); nothing here
 * changes the code of the functions around it.
 *
 * Shadow variables (new data attached to existing objects): kpatch-shadow.h, included
 * here; the functions live in the core module kpatch.ko.
 */
#ifndef _KPATCH_PATCH_H_
#define _KPATCH_PATCH_H_

#include <linux/compiler.h>
#include "kpatch-shadow.h"

/*
 * Hooks: where a patch converts state (kpatch.h says when each runs and what it may
 * do). At most one of each kind per patch module. The functions are new functions of
 * the patch (usually static in the patched file):
 *   static int my_pre_patch(void)    { ... return 0 or -errno (cancels the load); }
 *   static void my_post_unpatch(void) { kpatch_shadow_free_all(MY_ID, NULL); }
 *   KPATCH_PRE_PATCH_HOOK(my_pre_patch);
 *   KPATCH_POST_UNPATCH_HOOK(my_post_unpatch);
 * Each macro puts one pointer to the function in its own section,
 * `.kpatch.hooks.<kind>`.
 */
typedef int (*kpatch_pre_patch_hook_t)(void);
typedef void (*kpatch_post_hook_t)(void);

#define __KPATCH_HOOK(kind, type, fn)						\
	static const type __kpatch_hook_##kind##_##fn				\
	__used __section(".kpatch.hooks." #kind) = fn

#define KPATCH_PRE_PATCH_HOOK(fn)	__KPATCH_HOOK(pre_patch, kpatch_pre_patch_hook_t, fn)
#define KPATCH_POST_PATCH_HOOK(fn)	__KPATCH_HOOK(post_patch, kpatch_post_hook_t, fn)
#define KPATCH_PRE_UNPATCH_HOOK(fn)	__KPATCH_HOOK(pre_unpatch, kpatch_post_hook_t, fn)
#define KPATCH_POST_UNPATCH_HOOK(fn)	__KPATCH_HOOK(post_unpatch, kpatch_post_hook_t, fn)

/*
 * The escape hatch for a reviewed change. create-diff-object refuses a changed
 * function whose change it cannot prove safe (it uses a type whose layout changed,
 * it is __init/__exit, ...). When a reviewer has checked that the change is safe
 * anyway (say, an enumerator appended that old code never sees), the patch says so:
 *   KPATCH_REVIEWED(func, "why this is safe");
 * The refusals concerning `func` become warnings, and the module records the function,
 * the reason and what was waived (`kpatchctl info` shows them). The entry is the text
 * "func\0reason\0" in section `.kpatch.reviewed`; the sizeof only checks at compile
 * time that `func` names something, without referencing it.
 */
#define KPATCH_REVIEWED(func, reason)						\
	static const char __kpatch_reviewed_##func[sizeof(&(func)) ? sizeof(#func "\0" reason) : 0] \
	__used __aligned(1) __section(".kpatch.reviewed") = #func "\0" reason

#endif /* _KPATCH_PATCH_H_ */
