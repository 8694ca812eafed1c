/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * kpatch-macros.h - the patch-source macros of kpatch's patch author interface, so that
 * patches written for kpatch-build build here unchanged.
 *
 * Each macro maps onto what kpatch-patch.h already has, or onto a section the differ
 * reads; like kpatch-patch.h, nothing here changes the code around it. kpatch-build puts
 * this header's directory on the include path of the patched build only. What each one
 * means here (kpatch(7) says the same for patch authors):
 *
 *   KPATCH_PRE_PATCH_CALLBACK(fn)     int fn(patch_object *obj): before the switch; an
 *                                     error return cancels the load (pre_patch hook)
 *   KPATCH_POST_PATCH_CALLBACK(fn)    void fn(patch_object *obj): after the switch
 *   KPATCH_PRE_UNPATCH_CALLBACK(fn)   void fn(patch_object *obj): before switching back
 *   KPATCH_POST_UNPATCH_CALLBACK(fn)  void fn(patch_object *obj): after switching back
 *   KPATCH_LOAD_HOOK(fn)              void fn(void): kpatch's older name for a hook run
 *                                     once the patch is applied (post_patch)
 *   KPATCH_UNLOAD_HOOK(fn)            void fn(void): run before it is removed (pre_unpatch)
 *   KPATCH_IGNORE_FUNCTION(fn)        fn changed only as a side effect: keep the kernel's
 *   KPATCH_IGNORE_SECTION("name")     every function and variable in section "name" ditto
 *   KPATCH_PRINTK(fmt, ...)           printk() that does not make the code around it cold
 *   KPATCH_STATIC_CALL(name)          a static_call() made through the key's function
 *                                     pointer (for a key that lives in a module)
 *   KPATCH_FORCE_UNSAFE(fn)           switch fn without the stack check (see below)
 * and KPATCH_SYSCALL_DEFINE<n> from kpatch-syscall.h, included here as kpatch does.
 *
 * Callbacks and hooks share kpatch-patch.h's rule: at most one of each kind per patch
 * module (a callback and a hook of the same kind count as two). They run in process
 * context under the core's mutex, outside stop_machine, so they may sleep. `obj` stands
 * for the object the patched file belongs to, as the kernel's livepatch passes it: only
 * obj->name is set (NULL for vmlinux, the module's name for a module). Callbacks (and
 * hooks) in a module's file follow that module's part of the patch (kpatch.h,
 * hooks_objname): they run when it is applied or reverted, also when the module loads
 * or goes while the patch is on.
 */
#ifndef _KPATCH_MACROS_H_
#define _KPATCH_MACROS_H_

#include <linux/compiler.h>
#include <linux/livepatch.h>
#include <linux/printk.h>
#include "kpatch-patch.h"
#include "kpatch-syscall.h"

typedef struct klp_object patch_object;

typedef int (*kpatch_pre_patch_call_t)(patch_object *obj);
typedef void (*kpatch_post_patch_call_t)(patch_object *obj);
typedef void (*kpatch_pre_unpatch_call_t)(patch_object *obj);
typedef void (*kpatch_post_unpatch_call_t)(patch_object *obj);

/*
 * The object a callback is told about: one per patched file that has callbacks. It is
 * new data of the patch (the differ carries it because the wrapper below refers to it).
 */
#ifdef MODULE
#define __KPATCH_CALLBACK_OBJNAME	KBUILD_MODNAME
#else
#define __KPATCH_CALLBACK_OBJNAME	NULL
#endif
static struct klp_object __kpatch_callback_object __maybe_unused = {
	.name = __KPATCH_CALLBACK_OBJNAME,
};

/*
 * A callback becomes a kpatch-patch.h hook through a small wrapper that passes the
 * object. The typed pointer makes a callback with the wrong signature a compile error
 * at the macro, as with kpatch. The hook the core names (last_error, kpatchctl info) is
 * the wrapper, kpatch_callback_<fn>.
 */
#define __KPATCH_CALLBACK(kind, type, ret, hook, fn)				\
	static const type __kpatch_callback_type_##fn __maybe_unused = fn;	\
	static ret kpatch_callback_##fn(void)					\
	{									\
		return fn(&__kpatch_callback_object);				\
	}									\
	hook(kpatch_callback_##fn)

#define KPATCH_PRE_PATCH_CALLBACK(fn)						\
	__KPATCH_CALLBACK(pre_patch, kpatch_pre_patch_call_t, int,		\
			  KPATCH_PRE_PATCH_HOOK, fn)
#define KPATCH_POST_PATCH_CALLBACK(fn)						\
	__KPATCH_CALLBACK(post_patch, kpatch_post_patch_call_t, void,		\
			  KPATCH_POST_PATCH_HOOK, fn)
#define KPATCH_PRE_UNPATCH_CALLBACK(fn)						\
	__KPATCH_CALLBACK(pre_unpatch, kpatch_pre_unpatch_call_t, void,		\
			  KPATCH_PRE_UNPATCH_HOOK, fn)
#define KPATCH_POST_UNPATCH_CALLBACK(fn)					\
	__KPATCH_CALLBACK(post_unpatch, kpatch_post_unpatch_call_t, void,	\
			  KPATCH_POST_UNPATCH_HOOK, fn)

/* kpatch's load and unload hooks: `void fn(void)`, as kpatch-patch.h's hooks are. */
#define KPATCH_LOAD_HOOK(fn)	KPATCH_POST_PATCH_HOOK(fn)
#define KPATCH_UNLOAD_HOOK(fn)	KPATCH_PRE_UNPATCH_HOOK(fn)

/*
 * Side effects the patch author has checked: a function that changed only because of
 * another change (a WARN's line number moved, an inlined helper changed), or a section
 * whose contents changed without meaning to. create-diff-object treats what they cover as
 * unchanged: it is not replaced, and copied code calls or reads the kernel's copy. Each
 * entry is a NUL-terminated name in its section; the sizeof makes a misspelt function a
 * compile error without referring to it.
 */
#define KPATCH_IGNORE_FUNCTION(fn)						\
	static const char __kpatch_ignore_function_##fn[sizeof(&(fn)) ? sizeof(#fn) : 0] \
	__used __aligned(1) __section(".kpatch.ignore.functions") = #fn

#define KPATCH_IGNORE_SECTION(name)						\
	static const char __UNIQUE_ID(__kpatch_ignore_section)[] __used	\
	__aligned(1) __section(".kpatch.ignore.sections") = name

/*
 * printk() is __cold, and gcc lets that spread: the path that calls it becomes unlikely,
 * its code moves to .text.unlikely, helpers on it stop being inlined, and a one-line
 * patch changes functions it never touched. A condition gcc cannot see through (as far
 * as it knows, the empty asm may have changed the flag) keeps the call on a path of its
 * own.
 */
#define KPATCH_PRINTK(fmt, ...)							\
({										\
	int __kpatch_printk_go = 1;						\
	asm volatile("" : "+r" (__kpatch_printk_go));				\
	if (__kpatch_printk_go)							\
		printk(fmt, ##__VA_ARGS__);					\
})

/*
 * A static call whose key lives in a module cannot be relocated when the module comes
 * late (create-diff-object refuses it and suggests this): call through the key's current
 * function pointer instead. Only for kernels with static calls.
 */
#define KPATCH_STATIC_CALL(name)						\
	((typeof(&STATIC_CALL_TRAMP(name)))READ_ONCE(STATIC_CALL_KEY(name).func))

/*
 * For a function that some task is always inside (a kthread's main loop): the core
 * switches it without checking stacks (KPATCH_FUNC_NO_STACK_CHECK), so old and new code
 * may run at the same time. Only when the author has proven that safe. The differ sets
 * the flag on the function's entry and warns about it at build time.
 */
#define KPATCH_FORCE_UNSAFE(fn)							\
	static const char __kpatch_force_unsafe_##fn[sizeof(&(fn)) ? sizeof(#fn) : 0] \
	__used __aligned(1) __section(".kpatch.force") = #fn

#endif /* _KPATCH_MACROS_H_ */
