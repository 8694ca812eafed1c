/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * kpatch-syscall.h - KPATCH_SYSCALL_DEFINE<n>: what a patch writes instead of
 * SYSCALL_DEFINE<n> to change a system call (x86-64).
 *
 * On x86-64, SYSCALL_DEFINE1(newuname, ...) makes three functions: the entry points the
 * syscall table calls, __x64_sys_newuname and (with IA32 emulation) __ia32_sys_newuname,
 * which unpack pt_regs and call the static __se_sys_newuname (argument sign extension),
 * which calls the body, `static inline` __do_sys_newuname. gcc usually folds the last two
 * into the entry points. A change to the body then shows up in the entry points, which
 * the core can replace; but when gcc keeps __do_sys_newuname out of line, the change is
 * in a function that `inline` made notrace: it has no ftrace call, so it cannot be
 * replaced, and the entry points look unchanged.
 *
 * The patched build therefore names the body __kpatch_do_sys_<name>. For the differ it
 * is a new function, carried into the patch module whatever gcc does with it, and the
 * entry points always change (they call or contain the new body): they are what the core
 * replaces, the functions the kernel's syscall table calls. Usage, in the patched file:
 *
 *   #include "kpatch-syscall.h"
 *   -SYSCALL_DEFINE1(newuname, struct new_utsname __user *, name)
 *   +KPATCH_SYSCALL_DEFINE1(newuname, struct new_utsname __user *, name)
 *
 * The syscall's trace metadata is declared as SYSCALL_DEFINE declares it, so it stays
 * equal to the kernel's and is not part of the patch.
 */
#ifndef _KPATCH_SYSCALL_H_
#define _KPATCH_SYSCALL_H_

#include <linux/syscalls.h>

#if defined(CONFIG_X86_64) && defined(__X64_SYS_STUBx)

#define __KPATCH_SYSCALL_DEFINEx(x, name, ...)					\
	static long __se_sys##name(__MAP(x, __SC_LONG, __VA_ARGS__));		\
	static inline long __kpatch_do_sys##name(__MAP(x, __SC_DECL, __VA_ARGS__)); \
	__X64_SYS_STUBx(x, name, __VA_ARGS__)					\
	__IA32_SYS_STUBx(x, name, __VA_ARGS__)					\
	static long __se_sys##name(__MAP(x, __SC_LONG, __VA_ARGS__))		\
	{									\
		long ret = __kpatch_do_sys##name(__MAP(x, __SC_CAST, __VA_ARGS__)); \
		__MAP(x, __SC_TEST, __VA_ARGS__);				\
		__PROTECT(x, ret, __MAP(x, __SC_ARGS, __VA_ARGS__));		\
		return ret;							\
	}									\
	static inline long __kpatch_do_sys##name(__MAP(x, __SC_DECL, __VA_ARGS__))

#else
#error "kpatch-syscall.h knows the system call wrappers of x86-64 only"
#endif

#define KPATCH_SYSCALL_DEFINEx(x, sname, ...)					\
	SYSCALL_METADATA(sname, x, __VA_ARGS__)					\
	__KPATCH_SYSCALL_DEFINEx(x, sname, __VA_ARGS__)

/*
 * A syscall without arguments has no separate body: __x64_sys_<name> is an alias of
 * __do_sys_<name>, an ordinary traceable function, which is replaced as it is.
 */
#define KPATCH_SYSCALL_DEFINE0(name)	SYSCALL_DEFINE0(name)
#define KPATCH_SYSCALL_DEFINE1(name, ...) KPATCH_SYSCALL_DEFINEx(1, _##name, __VA_ARGS__)
#define KPATCH_SYSCALL_DEFINE2(name, ...) KPATCH_SYSCALL_DEFINEx(2, _##name, __VA_ARGS__)
#define KPATCH_SYSCALL_DEFINE3(name, ...) KPATCH_SYSCALL_DEFINEx(3, _##name, __VA_ARGS__)
#define KPATCH_SYSCALL_DEFINE4(name, ...) KPATCH_SYSCALL_DEFINEx(4, _##name, __VA_ARGS__)
#define KPATCH_SYSCALL_DEFINE5(name, ...) KPATCH_SYSCALL_DEFINEx(5, _##name, __VA_ARGS__)
#define KPATCH_SYSCALL_DEFINE6(name, ...) KPATCH_SYSCALL_DEFINEx(6, _##name, __VA_ARGS__)

#endif /* _KPATCH_SYSCALL_H_ */
