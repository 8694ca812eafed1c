// SPDX-License-Identifier: GPL-2.0-only
/*
 * patch.c - the ftrace glue: one IPMODIFY ftrace_ops for every patched address, whose
 * handler finds the address's kpatch_ops and sends the call to the version its target
 * names.
 *
 * One ops for all addresses, not one per address: every registration or filter change
 * of an ops is a pass over all of ftrace's call sites with cross-CPU synchronisation,
 * and every unregistration of a dynamic ops waits for a tasks-RCU grace period. With
 * an ops per address a patch of 1,000 functions paid that 1,000 times on enable and on
 * disable (doc/cost-model.md); with one ops it pays it once per patch.
 *
 * Handing an address to ftrace changes nothing visible (target starts at 0, the
 * original), so it happens before stop_machine; only the target switch happens inside.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/ftrace.h>
#include <linux/hashtable.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include "core.h"

#define KPATCH_OPS_HASH_BITS	10

static void notrace kpatch_ftrace_handler(unsigned long ip, unsigned long parent_ip,
					  struct ftrace_ops *fops,
					  struct ftrace_regs *fregs);

/* With DYNAMIC_FTRACE_WITH_ARGS the handler may set the ip without SAVE_REGS. */
static struct ftrace_ops kpatch_fops = {
	.func = kpatch_ftrace_handler,
	.flags = FTRACE_OPS_FL_DYNAMIC | FTRACE_OPS_FL_IPMODIFY |
#ifndef CONFIG_HAVE_DYNAMIC_FTRACE_WITH_ARGS
		 FTRACE_OPS_FL_SAVE_REGS |
#endif
		 FTRACE_OPS_FL_PERMANENT,
};
static bool kpatch_fops_registered;	/* kpatch_mutex */

/*
 * Every kpatch_ops with a function on its stack, by old_addr. Written under
 * kpatch_mutex, read by the handler under RCU (it runs with preemption disabled).
 */
static DEFINE_HASHTABLE(kpatch_ops_hash, KPATCH_OPS_HASH_BITS);
/* The same ops as a list (kpatch_mutex), and those whose stack emptied, to flush. */
static LIST_HEAD(kpatch_ops_live);
static LIST_HEAD(kpatch_ops_dead);

static void notrace kpatch_ftrace_handler(unsigned long ip, unsigned long parent_ip,
					  struct ftrace_ops *fops,
					  struct ftrace_regs *fregs)
{
	struct kpatch_ops *ops;
	int bit;

	/*
	 * Besides guarding against recursion this disables preemption, so a task never
	 * sleeps between reading the target and leaving the trampoline; stop_machine
	 * therefore never sees a half-taken decision, and the lookup below is an RCU
	 * read-side section (__kpatch_ops_flush() frees after synchronize_rcu()).
	 */
	bit = ftrace_test_recursion_trylock(ip, parent_ip);
	if (bit < 0)
		return;
	/* ip is the function's entry: with fentry and no IBT the ftrace site (kallsyms.c) */
	hash_for_each_possible_rcu_notrace(kpatch_ops_hash, ops, hnode, ip) {
		if (ops->old_addr == ip) {
			/* Pairs with the WRITE_ONCE in kpatch_switch_cb() (transition.c). */
			unsigned long target = READ_ONCE(ops->target);

			if (target)
				ftrace_instruction_pointer_set(fregs, target);
			break;
		}
	}
	ftrace_test_recursion_unlock(bit);
}

static struct kpatch_ops *__kpatch_find_ops(unsigned long old_addr)
{
	struct kpatch_ops *ops;

	lockdep_assert_held(&kpatch_mutex);
	hash_for_each_possible(kpatch_ops_hash, ops, hnode, old_addr)
		if (ops->old_addr == old_addr)
			return ops;
	return NULL;
}

/*
 * Puts @func on the stack of its address, creating the kpatch_ops when it is the first
 * patch of that function; __kpatch_ops_commit() then hands new addresses to ftrace.
 * Visible nowhere until a switch moves the target. Caller holds kpatch_mutex.
 */
int __kpatch_func_attach(struct kpatch_func *func)
{
	struct kpatch_ops *ops = __kpatch_find_ops(func->old_addr);
	struct kpatch_func *pos;

	lockdep_assert_held(&kpatch_mutex);
	if (WARN_ON(func->ops))
		return -EINVAL;
	if (!ops) {
		ops = kzalloc(sizeof(*ops), GFP_KERNEL);
		if (!ops) {
			__kpatch_set_error(func->patch, "enable", -ENOMEM,
					   "no memory for the ftrace handler of '%s'",
					   func->old_name);
			return -ENOMEM;
		}
		ops->old_addr = func->old_addr;
		INIT_LIST_HEAD(&ops->stack);
		list_add_tail(&ops->node, &kpatch_ops_live);
		hash_add_rcu(kpatch_ops_hash, &ops->hnode, ops->old_addr);
	}
	/* Keep the stack sorted, highest order (newest registration) first. */
	list_for_each_entry(pos, &ops->stack, stack_node)
		if (pos->patch->order < func->patch->order)
			break;
	list_add_tail(&func->stack_node, &pos->stack_node);
	func->ops = ops;
	return 0;
}

/* The addresses of the ops on @list whose filtered flag is @filtered; kvfree() them. */
static unsigned long *__kpatch_ops_addrs(struct list_head *list, bool filtered,
					 unsigned int *nr)
{
	struct kpatch_ops *ops;
	unsigned long *addrs;
	unsigned int n = 0;

	lockdep_assert_held(&kpatch_mutex);
	list_for_each_entry(ops, list, node)
		n += ops->filtered == filtered;
	*nr = n;
	if (!n)
		return NULL;
	addrs = kvmalloc_array(n, sizeof(*addrs), GFP_KERNEL);
	if (!addrs)
		return ERR_PTR(-ENOMEM);
	n = 0;
	list_for_each_entry(ops, list, node)
		if (ops->filtered == filtered)
			addrs[n++] = ops->old_addr;
	return addrs;
}

/* A message for a failed hand-over of @nr addresses, naming the function when one. */
static void __kpatch_commit_error(struct kpatch_patch *patch, int err, unsigned int nr,
				  const char *what)
{
	struct kpatch_ops *ops;
	struct kpatch_func *func = NULL;

	lockdep_assert_held(&kpatch_mutex);
	list_for_each_entry(ops, &kpatch_ops_live, node)
		if (!ops->filtered) {
			func = list_first_entry(&ops->stack, struct kpatch_func, stack_node);
			break;
		}
	if (nr == 1)
		__kpatch_set_error(patch, "enable", err, "%s on '%s'%s", what,
				   func ? func->old_name : "?",
				   err == -EBUSY ? " (patched by someone else?)" : "");
	else
		__kpatch_set_error(patch, "enable", err, "%s on its %u functions ('%s', ...)%s",
				   what, nr, func ? func->old_name : "?",
				   err == -EBUSY ?
				   " (one is patched by someone else? /sys/kernel/tracing/enabled_functions marks it with I)" :
				   "");
}

/*
 * Hands every address attached since the last commit to ftrace: one filter update of
 * the shared ops (registering it with them when no address was handed over yet). On
 * failure none of them is, last_error says why, and the caller detaches the functions
 * it attached (and flushes). Caller holds kpatch_mutex; may sleep.
 */
int __kpatch_ops_commit(struct kpatch_patch *patch)
{
	struct kpatch_ops *ops;
	unsigned long *addrs;
	unsigned int nr;
	int ret;

	lockdep_assert_held(&kpatch_mutex);
	addrs = __kpatch_ops_addrs(&kpatch_ops_live, false, &nr);
	if (!nr)
		return 0;
	if (IS_ERR(addrs)) {
		__kpatch_set_error(patch, "enable", -ENOMEM,
				   "no memory to list the %u functions for ftrace", nr);
		return -ENOMEM;
	}
	if (kpatch_fops_registered) {
		/* EBUSY: another IPMODIFY user (livepatch?) owns one of the functions */
		ret = ftrace_set_filter_ips(&kpatch_fops, addrs, nr, 0, 0);
		if (ret) {
			__kpatch_commit_error(patch, ret, nr, "cannot register an ftrace handler");
			goto out;
		}
	} else {
		/* reset: drop what a failed flush may have left in the filter */
		ret = ftrace_set_filter_ips(&kpatch_fops, addrs, nr, 0, 1);
		if (ret) {
			__kpatch_commit_error(patch, ret, nr, "cannot set an ftrace filter");
			goto out;
		}
		ret = register_ftrace_function(&kpatch_fops);
		if (ret) {
			__kpatch_commit_error(patch, ret, nr, "cannot register an ftrace handler");
			/* undoes ftrace_set_filter_ips(); an unregistered ops: no code changes */
			WARN_ON(ftrace_set_filter_ips(&kpatch_fops, addrs, nr, 1, 0));
			goto out;
		}
		kpatch_fops_registered = true;
	}
	list_for_each_entry(ops, &kpatch_ops_live, node)
		ops->filtered = true;
out:
	kvfree(addrs);
	return ret;
}

/*
 * Takes @func off its address's stack; an address left with no function leaves the
 * handler's table now and ftrace at the next __kpatch_ops_flush(). The switch away from
 * @func must already have happened. Caller holds kpatch_mutex.
 */
void __kpatch_func_detach(struct kpatch_func *func)
{
	struct kpatch_ops *ops = func->ops;

	lockdep_assert_held(&kpatch_mutex);
	if (WARN_ON(!ops) || WARN_ON(ops->active == func))
		return;
	list_del(&func->stack_node);
	func->ops = NULL;
	if (!list_empty(&ops->stack))
		return;
	WARN_ON(ops->target);
	/* the handler no longer finds it: calls run the original until ftrace lets go */
	hash_del_rcu(&ops->hnode);
	list_move_tail(&ops->node, &kpatch_ops_dead);
}

/*
 * Hands the addresses that __kpatch_func_detach() emptied back to ftrace, in one filter
 * update, or by unregistering the shared ops when no address is left (never leave it
 * registered with an empty filter: that would trace every function), then frees them.
 * Caller holds kpatch_mutex; may sleep.
 */
void __kpatch_ops_flush(void)
{
	struct kpatch_ops *ops, *tmp;
	unsigned long *addrs;
	unsigned int nr;
	bool live = false;

	lockdep_assert_held(&kpatch_mutex);
	if (list_empty(&kpatch_ops_dead))
		return;
	/* after a failed flush an address may be live again: its filter entry stays */
	list_for_each_entry(ops, &kpatch_ops_dead, node)
		if (ops->filtered && __kpatch_find_ops(ops->old_addr))
			ops->filtered = false;
	list_for_each_entry(ops, &kpatch_ops_live, node)
		live |= ops->filtered;
	addrs = __kpatch_ops_addrs(&kpatch_ops_dead, true, &nr);
	if (IS_ERR(addrs)) {
		/* harmless meanwhile: the handler finds none of them; the next flush retries */
		WARN_ON(1);
		return;
	}
	if (kpatch_fops_registered && !live) {
		/* waits until no task can still be in the handler or its trampoline */
		WARN_ON(unregister_ftrace_function(&kpatch_fops));
		kpatch_fops_registered = false;
	}
	/* an unregistered ops: only the filter changes; the next commit resets it anyway */
	if (nr)
		WARN_ON(ftrace_set_filter_ips(&kpatch_fops, addrs, nr, 1, 0));
	kvfree(addrs);
	/* a handler that found one of them before hash_del_rcu() has returned */
	synchronize_rcu();
	list_for_each_entry_safe(ops, tmp, &kpatch_ops_dead, node) {
		list_del(&ops->node);
		kfree(ops);
	}
}

/*
 * After a switch left every function of @patch (a disable, or a cumulative patch
 * replacing it): takes them off the ops stacks and marks the patch disabled. Its
 * pending module parts then never apply (module.c skips disabled patches). The
 * caller runs the post-unpatch hook and drops the module reference.
 */
void __kpatch_patch_retire(struct kpatch_patch *patch)
{
	unsigned int i;

	lockdep_assert_held(&kpatch_mutex);
	for (i = 0; i < patch->nr_funcs; i++)
		if (patch->funcs[i].ops)
			__kpatch_func_detach(&patch->funcs[i]);
	__kpatch_ops_flush();
	/* a module may go now: its relocations are zeroed then (module.c) */
	for (i = 0; i < patch->nr_objs; i++)
		patch->objs[i].mod = NULL;
	patch->enabled = false;
	__kpatch_objects_set_state(patch, KPATCH_OBJECT_DISABLED);
}

/* Module exit: no patch is left, so the shared ops is unregistered; free its filter. */
void kpatch_ops_exit(void)
{
	WARN_ON(kpatch_fops_registered || !list_empty(&kpatch_ops_live));
	ftrace_free_filter(&kpatch_fops);
}
