// SPDX-License-Identifier: GPL-2.0-only
/*
 * patch.c - the ftrace glue: one IPMODIFY ftrace_ops per patched address, whose
 * handler sends calls to the version that kpatch_ops.target names.
 *
 * Registering an ops changes nothing visible (target starts at 0, the original), so
 * it happens before stop_machine; only the target switch happens inside it.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/ftrace.h>
#include <linux/slab.h>
#include "core.h"

/* Every kpatch_ops, under kpatch_mutex. */
static LIST_HEAD(kpatch_ops_list);

static void notrace kpatch_ftrace_handler(unsigned long ip, unsigned long parent_ip,
					  struct ftrace_ops *fops,
					  struct ftrace_regs *fregs)
{
	struct kpatch_ops *ops = container_of(fops, struct kpatch_ops, fops);
	unsigned long target;
	int bit;

	/*
	 * Besides guarding against recursion this disables preemption, so a task never
	 * sleeps between reading the target and leaving the trampoline; stop_machine
	 * therefore never sees a half-taken decision.
	 */
	bit = ftrace_test_recursion_trylock(ip, parent_ip);
	if (bit < 0)
		return;
	/* Pairs with the WRITE_ONCE in kpatch_switch_cb() (transition.c). */
	target = READ_ONCE(ops->target);
	if (target)
		ftrace_instruction_pointer_set(fregs, target);
	ftrace_test_recursion_unlock(bit);
}

static struct kpatch_ops *__kpatch_find_ops(unsigned long old_addr)
{
	struct kpatch_ops *ops;

	lockdep_assert_held(&kpatch_mutex);
	list_for_each_entry(ops, &kpatch_ops_list, node)
		if (ops->old_addr == old_addr)
			return ops;
	return NULL;
}

static struct kpatch_ops *__kpatch_create_ops(struct kpatch_func *func)
{
	struct kpatch_ops *ops;
	int ret;

	lockdep_assert_held(&kpatch_mutex);
	ops = kzalloc(sizeof(*ops), GFP_KERNEL);
	if (!ops) {
		__kpatch_set_error(func->patch, "enable", -ENOMEM,
				   "no memory for the ftrace handler of '%s'", func->old_name);
		return ERR_PTR(-ENOMEM);
	}
	ops->old_addr = func->old_addr;
	INIT_LIST_HEAD(&ops->stack);
	ops->fops.func = kpatch_ftrace_handler;
	/* With DYNAMIC_FTRACE_WITH_ARGS the handler may set the ip without SAVE_REGS. */
	ops->fops.flags = FTRACE_OPS_FL_DYNAMIC | FTRACE_OPS_FL_IPMODIFY |
#ifndef CONFIG_HAVE_DYNAMIC_FTRACE_WITH_ARGS
			  FTRACE_OPS_FL_SAVE_REGS |
#endif
			  FTRACE_OPS_FL_PERMANENT;

	ret = ftrace_set_filter_ip(&ops->fops, func->old_addr, 0, 0);
	if (ret) {
		__kpatch_set_error(func->patch, "enable", ret,
				   "cannot set an ftrace filter on '%s'", func->old_name);
		goto err_free;	/* undoes the allocation */
	}
	ret = register_ftrace_function(&ops->fops);
	if (ret) {
		/* EBUSY here: another IPMODIFY user (livepatch?) owns the function. */
		__kpatch_set_error(func->patch, "enable", ret,
				   "cannot register an ftrace handler on '%s' (patched by someone else?)",
				   func->old_name);
		goto err_filter;
	}
	list_add(&ops->node, &kpatch_ops_list);
	return ops;

err_filter:
	/* undoes ftrace_set_filter_ip() */
	ftrace_set_filter_ip(&ops->fops, func->old_addr, 1, 0);
err_free:
	kfree(ops);
	return ERR_PTR(ret);
}

/*
 * Puts @func on the ops stack of its address, creating and registering the ops when it
 * is the first patch of that function. Visible nowhere until a switch moves the target.
 * Caller holds kpatch_mutex; may sleep.
 */
int __kpatch_func_attach(struct kpatch_func *func)
{
	struct kpatch_ops *ops = __kpatch_find_ops(func->old_addr);
	struct kpatch_func *pos;

	lockdep_assert_held(&kpatch_mutex);
	if (WARN_ON(func->ops))
		return -EINVAL;
	if (!ops) {
		ops = __kpatch_create_ops(func);
		if (IS_ERR(ops))
			return PTR_ERR(ops);
	}
	/* Keep the stack sorted, highest order (newest registration) first. */
	list_for_each_entry(pos, &ops->stack, stack_node)
		if (pos->patch->order < func->patch->order)
			break;
	list_add_tail(&func->stack_node, &pos->stack_node);
	func->ops = ops;
	return 0;
}

/*
 * Takes @func off its ops stack; the last one out unregisters and frees the ops.
 * The switch away from @func must already have happened. Caller holds kpatch_mutex;
 * may sleep (unregister_ftrace_function waits until no handler runs).
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
	WARN_ON(unregister_ftrace_function(&ops->fops));
	WARN_ON(ftrace_set_filter_ip(&ops->fops, ops->old_addr, 1, 0));
	list_del(&ops->node);
	kfree(ops);
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
	/* a module may go now: its relocations are zeroed then (module.c) */
	for (i = 0; i < patch->nr_objs; i++)
		patch->objs[i].mod = NULL;
	patch->enabled = false;
	__kpatch_objects_set_state(patch, KPATCH_OBJECT_DISABLED);
}
