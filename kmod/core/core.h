/* SPDX-License-Identifier: GPL-2.0-only */
/* core.h - state shared by the files of the kpatch core module (private). */
#ifndef _KPATCH_CORE_H
#define _KPATCH_CORE_H

#include <linux/elf.h>
#include <linux/ftrace.h>
#include <linux/kobject.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/sched.h>
#include "kpatch.h"
#include "report.h"	/* kpatch_mutex; a __ prefix means: the caller holds it */

struct kpatch_ops;
struct kpatch_patch;

/*
 * What a patch changes in one object (vmlinux, or a module as in /proc/modules);
 * /sys/kernel/kpatch/<patch>/<object>/. Owned by the patch (freed with it).
 */
enum kpatch_object_state {
	KPATCH_OBJECT_DISABLED,		/* the patch is not enabled */
	KPATCH_OBJECT_APPLIED,		/* its functions are switched */
	KPATCH_OBJECT_PENDING,		/* enabled, but its module is not loaded (module.c) */
};

struct kpatch_object {
	struct kpatch_patch *patch;
	char *name;			/* "vmlinux" or a module name */
	enum kpatch_object_state state;	/* kpatch_mutex */
	unsigned int nr_funcs;		/* functions of the patch whose obj is this */
	/*
	 * A module's part is applied while the module is loaded and the patch enabled
	 * (at enable, or by the module notifier when it loads: module.c) and reverted
	 * when either goes away. @mod: the module its functions are resolved in and
	 * attached to, while applied or being applied; NULL for vmlinux and while
	 * pending. @reloc_mod: the module the patch's .klp.rela.<name>.* relocations
	 * were written for, until it goes (6.1 cannot clear them: module.c zeroes them
	 * on MODULE_STATE_GOING).
	 */
	bool is_module;
	struct module *mod;
	struct module *reloc_mod;
	struct kobject kobj;
	bool kobj_added;		/* kobj is in sysfs and must be put */
};

/* One replaced function of a registered patch; owned by the core. */
struct kpatch_func {
	struct kpatch_patch *patch;
	struct kpatch_object *obj;	/* the object holding the old function */
	char *old_name;			/* copied: the patch module may go away first */
	unsigned long sympos;
	unsigned long flags;		/* KPATCH_FUNC_* */
	unsigned long old_addr, old_size;
	unsigned long new_addr, new_size;
	/*
	 * The split-off parts ("<name>.cold"), 0 when none: tasks may sleep there too,
	 * so the stack check covers them (kpatch.h).
	 */
	char *old_cold_name;		/* copied, NULL when none */
	unsigned long old_cold_sympos;
	unsigned long old_cold_addr, old_cold_size;
	unsigned long new_cold_addr, new_cold_size;
	unsigned long obj_size;		/* size in the object the patch was built from */
	const u8 *verify_bytes;		/* in the patch module (kpatch.h); verify.c */
	const u8 *verify_mask;
	unsigned long verify_len;
	struct kpatch_ops *ops;		/* set while attached (enabled or being enabled) */
	struct list_head stack_node;	/* in ops->stack while attached */
	struct kobject kobj;		/* <patch>/<object>/<old_name>,<sympos> */
	bool kobj_added;
};

/* A registered patch; lives from kpatch_register_patch() to its kobject release. */
struct kpatch_patch {
	struct kpatch_patch_desc *desc;
	struct module *mod;
	char *name;
	struct list_head node;		/* in kpatch_patches, under kpatch_mutex */
	struct kobject kobj;		/* /sys/kernel/kpatch/<name> */
	unsigned long order;		/* registration sequence number; higher wins */
	bool registered;		/* false once unregistering began */
	bool enabled;
	bool replace;			/* KPATCH_PATCH_REPLACE (kpatch.h) */
	/*
	 * Cumulative patches (kpatch_mutex): @replaced_patches names the patches the last
	 * enable of this one replaced, one per line ("" when none, NULL before it was
	 * enabled); @replaced_by the patch that replaced this one (NULL: none). Copies,
	 * since either patch may be unregistered first.
	 */
	char *replaced_patches;
	char *replaced_by;
	unsigned int nr_funcs;
	struct kpatch_func *funcs;
	unsigned int nr_objs;
	struct kpatch_object *objs;	/* in the order of their first function */
	/*
	 * The hooks' object when it is a module (desc->hooks_objname; NULL: the patch as
	 * a whole). @hooks_active: pre_patch ran and post_unpatch has not yet, i.e. the
	 * hooks see their object applied (kpatch_mutex; hooks.c).
	 */
	struct kpatch_object *hooks_obj;
	bool hooks_active;
	char last_error[KPATCH_ERR_LEN];
};

/*
 * One patched address, shared by every patch of that function. All addresses share one
 * IPMODIFY ftrace_ops (patch.c), whose handler finds the kpatch_ops of the address
 * called in a hash table; ftrace allows a single IPMODIFY ops per function, so a
 * function has one kpatch_ops whatever the number of patches on it.
 *
 * @stack lists the attached kpatch_funcs, highest patch order first; it changes only
 * under kpatch_mutex and is never read by the handler. @active/@target say which
 * version runs now (NULL/0: the original); they change only inside stop_machine, so
 * the handler (preemption disabled) sees either the old or the new value.
 */
struct kpatch_ops {
	unsigned long old_addr;
	struct kpatch_func *active;
	unsigned long target;
	struct list_head stack;
	struct hlist_node hnode;	/* in the handler's hash table (RCU) */
	struct list_head node;		/* in patch.c's list of live or of dead ops */
	bool filtered;			/* old_addr is in the shared ops' filter */
};

/* Registered patches, oldest first (kpatch_mutex); core.c adds and removes them. */
extern struct list_head kpatch_patches;

/*
 * object.c: groups a patch's functions by object, and their sysfs directories.
 * kpatch_objects_init() before registering (the patch is still private);
 * __kpatch_sysfs_add() once the patch's own kobject is in sysfs; kpatch_sysfs_put()
 * puts every kobject of the patch, the patch's last (its release frees everything),
 * and must not be called under kpatch_mutex: removing a sysfs file waits for
 * running handlers, which take it.
 */
int kpatch_objects_init(struct kpatch_patch *patch);
void kpatch_objects_free(struct kpatch_patch *patch);
int __kpatch_sysfs_add(struct kpatch_patch *patch);
void kpatch_sysfs_put(struct kpatch_patch *patch);
void __kpatch_objects_set_state(struct kpatch_patch *patch, enum kpatch_object_state state);

/* kallsyms.c: kernel internals that are not exported, found once at init. */
struct kpatch_syms {
	int (*stack_trace_save_tsk_reliable)(struct task_struct *tsk,
					     unsigned long *store, unsigned int size);
	struct task_struct *(*idle_task)(int cpu);
	const void *stop_sched_class;
	unsigned long (*ftrace_location)(unsigned long ip);
	int (*kallsyms_lookup_size_offset)(unsigned long addr, unsigned long *size,
					   unsigned long *offset);
	int (*kallsyms_on_each_match_symbol)(int (*fn)(void *, unsigned long),
					     const char *name, void *data);
	/* For functions in modules (module.c). */
	int (*klp_apply_section_relocs)(struct module *pmod, Elf_Shdr *sechdrs,
					const char *shstrtab, const char *strtab,
					unsigned int symndx, unsigned int secndx,
					const char *objname);
	struct module *(*find_module)(const char *name);
	struct mutex *module_mutex;
	void *(*text_poke)(void *addr, const void *opcode, size_t len);
	struct mutex *text_mutex;
	int (*wake_up_state)(struct task_struct *p, unsigned int state);
	struct module *(*__module_address)(unsigned long addr);
	/* For the patch module's own vmlinux relocations (relocs.c). */
	int (*apply_relocate_add)(Elf_Shdr *sechdrs, const char *strtab, unsigned int symindex,
				  unsigned int relsec, struct module *me);
};
extern struct kpatch_syms kpatch_syms;
int kpatch_syms_init(void);
/* kallsyms.c: resolves and verifies the functions of @obj (vmlinux, or obj->mod). */
int __kpatch_resolve_object(struct kpatch_object *obj);
int kpatch_cmp_addr(const void *a, const void *b);
/* relocs.c: writes the patch module's .klp.rela.kpatch-vmlinux.* sections. */
int __kpatch_write_vmlinux_relocs(struct kpatch_patch *patch);

/* verify.c: is the running code what the patch was built against? */
int __kpatch_verify_object(struct kpatch_object *obj);

/*
 * module.c: functions in modules. A function takes part in a switch when its object
 * is vmlinux or a module that is loaded (obj->mod set by the calls below).
 */
static inline bool kpatch_func_present(const struct kpatch_func *func)
{
	return !func->obj->is_module || func->obj->mod;
}
int kpatch_module_init(void);
void kpatch_module_exit(void);
int __kpatch_objects_prepare(struct kpatch_patch *patch);
void __kpatch_objects_finish(struct kpatch_patch *patch, bool applied);

/*
 * patch.c: the ftrace glue. __kpatch_func_attach() puts a function on the stack of its
 * address; __kpatch_ops_commit() then hands every new address to ftrace at once (one
 * code update for the whole batch). __kpatch_func_detach() takes a function off; an
 * address left with no function is handed back by the next __kpatch_ops_flush(),
 * which every batch of detaches must be followed by.
 */
int __kpatch_func_attach(struct kpatch_func *func);
int __kpatch_ops_commit(struct kpatch_patch *patch);
void __kpatch_func_detach(struct kpatch_func *func);
void __kpatch_ops_flush(void);
void __kpatch_patch_retire(struct kpatch_patch *patch);
void kpatch_ops_exit(void);

/* transition.c */
int __kpatch_enable_patch(struct kpatch_patch *patch);
int __kpatch_disable_patch(struct kpatch_patch *patch);

/*
 * replace.c: the bookkeeping of a cumulative patch's enable (KPATCH_PATCH_REPLACE).
 * __kpatch_replace_begin() collects the enabled patches it replaces and allocates
 * what the end needs (so nothing fails after the switch), then runs their pre-unpatch
 * hooks; exactly one of __kpatch_replace_cancel() (the switch did not happen) and
 * __kpatch_replace_finish() (it did) follows.
 */
struct kpatch_replace {
	struct kpatch_patch **old;	/* the patches replaced, oldest first */
	unsigned int nr;
	unsigned int nr_funcs;		/* of all of them: sizes the switch plan */
	char **by;			/* a copy of the new patch's name for each */
	char *names;			/* their names, one per line */
};
int __kpatch_replace_begin(struct kpatch_patch *patch, struct kpatch_replace *rep);
void __kpatch_replace_cancel(struct kpatch_replace *rep);
void __kpatch_replace_finish(struct kpatch_patch *patch, struct kpatch_replace *rep);

/*
 * nudge.c: moves tasks that block a transition out of an interruptible sleep (a fake
 * signal parks them at their return to user space until the transition is over).
 */
extern struct kobj_attribute kpatch_nudged_attr;
void __kpatch_nudge_begin(struct kpatch_patch *patch, const char *op);
bool __kpatch_nudge(pid_t pid);
void __kpatch_nudge_end(void);
void kpatch_nudge_exit(void);

/*
 * hooks.c: a patch's hooks (kpatch.h), called by transition.c and, for hooks that
 * follow a module's part, by module.c. pre_patch sets patch->hooks_active when it
 * succeeds, post_unpatch clears it. While one runs,
 * kpatch_hook_task/kpatch_hook_mod name its task and patch module (for shadow claims).
 */
extern struct task_struct *kpatch_hook_task;
extern struct module *kpatch_hook_mod;
bool __kpatch_hooks_present(const struct kpatch_patch *patch);
bool __kpatch_hooks_follow(const struct kpatch_patch *patch, const struct module *mod);
int __kpatch_hook_pre_patch(struct kpatch_patch *patch);
void __kpatch_hook_post_patch(struct kpatch_patch *patch);
void __kpatch_hook_pre_unpatch(struct kpatch_patch *patch);
void __kpatch_hook_post_unpatch(struct kpatch_patch *patch);

/* shadow.c: /sys/kernel/kpatch/shadow_count, and freeing what patches leaked. */
extern struct kobj_attribute kpatch_shadow_count_attr;
int kpatch_shadow_init(void);
void kpatch_shadow_exit(void);

#endif /* _KPATCH_CORE_H */
