/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * kpatch.h - the interface between patch modules and the kpatch core module.
 *
 * A patch module describes which kernel functions it replaces and registers the
 * description with the core from its module init. Registering also enables the
 * patch (ftrace handlers installed, then one stop_machine that checks stacks and
 * switches every function at once). If enabling fails, registration fails and the
 * module's init must return that error, so a failed load leaves nothing behind.
 *
 * While a patch is enabled the core holds a reference on the patch module, so the
 * module cannot be removed; disabling (sysfs `enabled` = 0) drops it again.
 * Errors and their meaning: doc/interfaces.md; the reason is always in
 * /sys/kernel/kpatch/last_error.
 */
#ifndef _KPATCH_H_
#define _KPATCH_H_

#include <linux/types.h>

struct module;

/*
 * Functions that are always on some stack (a kthread's main loop): enabling does not
 * look for the original on stacks. Disabling still checks the replacement (and its
 * cold part), which goes away with the patch module.
 */
#define KPATCH_FUNC_NO_STACK_CHECK	0x1UL
/*
 * The verified function was 16-byte aligned in the original object and is covered
 * whole (@verify_len == @old_size): in the running kernel the bytes after it up to the
 * next 16-byte boundary must be padding. (Cold functions, __init ones included, are
 * not aligned, and an overridden __weak function's code may follow them directly.)
 */
#define KPATCH_FUNC_VERIFY_PADDING	0x2UL

/*
 * A cumulative patch (kpatch_patch_desc.flags): enabling it replaces every other
 * enabled patch in the same stop_machine. Its functions switch to its code, and every
 * function that only the replaced patches changed goes back to the original; the
 * stack check covers the code being left in both. On success the replaced patches are
 * disabled (their pre/post-unpatch hooks run around the switch, as for a disable) and
 * their modules can be removed; they cannot be enabled again. On failure nothing
 * changes. doc/interfaces.md, "Cumulative patches".
 */
#define KPATCH_PATCH_REPLACE		0x1UL
/*
 * The patch module's references to vmlinux symbols that are not exported are in
 * .klp.rela.kpatch-vmlinux.* sections, which the core writes at registration (the
 * module loader writes only .klp.rela.vmlinux.*). kpatch-build's patch modules set it,
 * so that a core too old to write them refuses the patch.
 */
#define KPATCH_PATCH_CORE_RELOCS	0x2UL
#define KPATCH_PATCH_FLAGS		(KPATCH_PATCH_REPLACE | KPATCH_PATCH_CORE_RELOCS)

/* One replaced function. */
struct kpatch_func_desc {
	const char *old_name;	/* name of the function in its object */
	unsigned long sympos;	/* 1-based position among same-named symbols of its object
				 * (vmlinux: kallsyms, address order; a module: its symbol
				 * table's order, as the kernel's .klp.sym counts); 0 when
				 * unique */
	void *new_func;		/* replacement, inside the patch module */
	unsigned long old_size;	/* size in the object the patch was built from (the core
				 * takes sizes from kallsyms; this one is only verified) */
	unsigned long flags;	/* KPATCH_FUNC_* */
	/*
	 * What the running function must be (NULL/0: not checked). Before registering,
	 * the core compares its first @verify_len bytes with @verify_bytes wherever
	 * @verify_mask has bits set (0 where the kernel rewrites code: relocated fields,
	 * the ftrace site, alternative, jump-label and similar sites). With
	 * KPATCH_FUNC_VERIFY_PADDING the function must also not be longer.
	 */
	const unsigned char *verify_bytes;
	const unsigned char *verify_mask;
	unsigned long verify_len;
	/*
	 * The object holding the old function: NULL (or "vmlinux") for the kernel image,
	 * else a module name as in /proc/modules ("ext4", "nf_tables"). A module's
	 * functions are switched when the module is loaded (now or later).
	 */
	const char *objname;
	/*
	 * The split-off part of the function (GCC's "<name>.cold", reached by a jump, not a
	 * call), if either version has one: tasks may sleep there too, so the stack check
	 * covers it. @old_cold_name/@old_cold_sympos name the original's part in the same
	 * object (NULL: none); @new_cold is the replacement's part in the patch module
	 * (NULL: none).
	 */
	const char *old_cold_name;
	unsigned long old_cold_sympos;
	void *new_cold;
};

/* One patch: everything a patch module replaces, switched together. */
struct kpatch_patch_desc {
	const char *name;	/* sysfs directory name; normally the module name */
	struct module *mod;	/* THIS_MODULE */
	const struct kpatch_func_desc *funcs;
	unsigned int nr_funcs;
	void *core_private;	/* owned by the core; patch modules leave it NULL */

	/*
	 * Hooks (each optional, NULL = none), where a patch converts state: they run in
	 * process context under the core's mutex, outside stop_machine, on every enable
	 * (including the one at registration) and disable. They may sleep and use the
	 * shadow API, but must not register, unregister or enable patches.
	 * - pre_patch: before anything changes; non-zero cancels the enable, which then
	 *   fails with that error, changes nothing and runs no other hook; the error
	 *   and the hook's name are in last_error.
	 * - post_patch: after the switch (the new code runs); also after a failed
	 *   disable, to undo what pre_unpatch did.
	 * - pre_unpatch: before the switch back; cannot veto it (a disable or a forced
	 *   removal must stay possible, whatever the patch thinks).
	 * - post_unpatch: after the switch back (the new code no longer runs: free
	 *   shadow variables here); also after an enable that failed once pre_patch had
	 *   succeeded, to undo what pre_patch did.
	 * So every pre_* hook is followed by exactly one post_* hook.
	 */
	int (*pre_patch)(struct kpatch_patch_desc *patch);
	void (*post_patch)(struct kpatch_patch_desc *patch);
	void (*pre_unpatch)(struct kpatch_patch_desc *patch);
	void (*post_unpatch)(struct kpatch_patch_desc *patch);
	/*
	 * The object the hooks belong to (kpatch's per-object callbacks): NULL or
	 * "vmlinux" for the patch as a whole (the rules above); else a module of which the
	 * patch replaces functions, and the hooks follow that module's part instead:
	 * pre_patch/post_patch when it is applied (at enable if the module is loaded,
	 * else when it loads: a failing pre_patch then refuses the module's load), and
	 * pre_unpatch/post_unpatch when it is reverted (at disable, or when the module
	 * goes, after its exit). While the module is not loaded, enabling and disabling
	 * run no hook.
	 */
	const char *hooks_objname;

	unsigned long flags;	/* KPATCH_PATCH_* */
};

int kpatch_register_patch(struct kpatch_patch_desc *patch);
void kpatch_unregister_patch(struct kpatch_patch_desc *patch);

/*
 * Entries that create-diff-object emits in the section `.kpatch.funcs` of a patch
 * object, one per replaced function. All fields are 64-bit so the differ can write
 * them without knowing C struct padding; `new_func` and `old_name` carry relocations
 * (`old_name` points at a NUL-terminated string in `.kpatch.strings`), and so do
 * `verify_bytes` and `verify_mask` when `verify_len` is not 0 (into `.kpatch.verify`),
 * `objname` and `old_cold_name` (strings in `.kpatch.strings`) and `new_cold` when not 0.
 * The generated patch-module source turns them into struct kpatch_func_desc at init.
 */
struct kpatch_funcs_entry {
	__u64 new_func;
	__u64 old_name;
	__u64 sympos;
	__u64 old_size;
	__u64 flags;
	__u64 verify_bytes;
	__u64 verify_mask;
	__u64 verify_len;
	__u64 objname;
	__u64 old_cold_name;
	__u64 old_cold_sympos;
	__u64 new_cold;
};

#endif /* _KPATCH_H_ */
