// SPDX-License-Identifier: GPL-2.0-only
/*
 * transition.c - the consistency model: switch all functions of a patch at once
 * inside stop_machine, and only when no task's stack holds a function being switched.
 *
 * Everything that can fail or sleep (ftrace registration, allocation, module refs)
 * happens before stop_machine; the callback only walks stacks and writes targets.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/delay.h>
#include <linux/module.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/stop_machine.h>
#include <linux/timekeeping.h>
#include "core.h"

#define KPATCH_MAX_STACK_ENTRIES	100
/* A busy function usually frees up within milliseconds; give up after ~0.25 s. */
#define KPATCH_TRIES			5
#define KPATCH_RETRY_MS			50

/* One function's switch, planned before stop_machine. */
struct kpatch_switch {
	struct kpatch_func *func;	/* the function of the patch being switched */
	struct kpatch_ops *ops;
	struct kpatch_func *to;		/* version to run afterwards; NULL: the original */
	bool check;			/* look for it on stacks */
	/*
	 * Ranges no stack may hold: the original, and the version running now. The
	 * original is checked even when a replacement is active, because a task can be
	 * caught between the handler and the jump to the replacement, with only the
	 * original's return address on its stack.
	 */
	unsigned long range[2][2];
};

enum kpatch_blocker {
	KPATCH_BLOCK_NONE,
	KPATCH_BLOCK_FUNC,		/* task inside a function being switched */
	KPATCH_BLOCK_UNRELIABLE,	/* stack could not be unwound reliably */
	KPATCH_BLOCK_RUNNING,		/* running on another CPU, and not its stopper */
};

struct kpatch_transition {
	struct kpatch_switch *sw;
	unsigned int nr;
	/* Results of the callback. */
	unsigned int tasks_checked, tasks_skipped;
	u64 check_ns;
	enum kpatch_blocker blocker;
	char comm[TASK_COMM_LEN];
	pid_t pid;
	const char *func_name;
	int unwind_err;
	/* The blocker's stack as walked (nothing when it could not be unwound). */
	unsigned int nr_entries;
	unsigned long entries[KPATCH_MAX_STACK_ENTRIES];
};

/*
 * Used only by the stop_machine callback, which runs on one CPU under kpatch_mutex;
 * static, like the transition below, so that nothing is allocated in the callback.
 */
static unsigned long kpatch_entries[KPATCH_MAX_STACK_ENTRIES];
static struct kpatch_transition kpatch_tr;

static void kpatch_block(struct kpatch_transition *tr, struct task_struct *t,
			 enum kpatch_blocker why)
{
	tr->blocker = why;
	memcpy(tr->comm, t->comm, TASK_COMM_LEN);
	tr->comm[TASK_COMM_LEN - 1] = '\0';
	tr->pid = task_pid_nr(t);
}

/* Returns -EBUSY when @t blocks the switch. Runs inside stop_machine. */
static int kpatch_check_task(struct kpatch_transition *tr, struct task_struct *t)
{
	unsigned int i, j, k;
	int nr;

	/*
	 * Inside stop_machine every other CPU runs its stopper thread (multi_cpu_stop).
	 * Their saved stacks are stale (they are running) and their live stacks hold only
	 * stop_machine code, which is not patchable through us; pass them over by rule.
	 * Our own stack (current, the stopper of this CPU) is walked live.
	 */
	if (t != current && READ_ONCE(t->on_cpu)) {
		if (t->sched_class == kpatch_syms.stop_sched_class) {
			tr->tasks_skipped++;
			return 0;
		}
		kpatch_block(tr, t, KPATCH_BLOCK_RUNNING);
		return -EBUSY;
	}

	tr->tasks_checked++;
	nr = kpatch_syms.stack_trace_save_tsk_reliable(t, kpatch_entries,
							ARRAY_SIZE(kpatch_entries));
	if (nr < 0) {
		kpatch_block(tr, t, KPATCH_BLOCK_UNRELIABLE);
		tr->unwind_err = nr;
		return -EBUSY;
	}
	for (i = 0; i < nr; i++) {
		for (j = 0; j < tr->nr; j++) {
			const struct kpatch_switch *sw = &tr->sw[j];

			if (!sw->check)
				continue;
			for (k = 0; k < 2; k++) {
				if (kpatch_entries[i] >= sw->range[k][0] &&
				    kpatch_entries[i] < sw->range[k][1]) {
					kpatch_block(tr, t, KPATCH_BLOCK_FUNC);
					tr->func_name = sw->func->old_name;
					tr->nr_entries = nr;
					memcpy(tr->entries, kpatch_entries,
					       nr * sizeof(kpatch_entries[0]));
					return -EBUSY;
				}
			}
		}
	}
	return 0;
}

static int kpatch_check_stacks(struct kpatch_transition *tr)
{
	struct task_struct *g, *t;
	unsigned int cpu;
	int ret = 0;

	/* No task can come or go while the machine is stopped; RCU only for form. */
	rcu_read_lock();
	for_each_process_thread(g, t) {
		ret = kpatch_check_task(tr, t);
		if (ret)
			goto out;
	}
	/* Idle tasks are not on the task list. */
	for_each_online_cpu(cpu) {
		ret = kpatch_check_task(tr, kpatch_syms.idle_task(cpu));
		if (ret)
			goto out;
	}
out:
	rcu_read_unlock();
	return ret;
}

/* The stop_machine callback: check, then switch every function or none. */
static int kpatch_switch_cb(void *data)
{
	struct kpatch_transition *tr = data;
	u64 start = ktime_get_ns();
	unsigned int i;
	int ret;

	ret = kpatch_check_stacks(tr);
	tr->check_ns = ktime_get_ns() - start;
	if (ret)
		return ret;
	for (i = 0; i < tr->nr; i++) {
		struct kpatch_switch *sw = &tr->sw[i];

		sw->ops->active = sw->to;
		/* Pairs with the READ_ONCE in kpatch_ftrace_handler() (patch.c). */
		WRITE_ONCE(sw->ops->target, sw->to ? sw->to->new_addr : 0);
	}
	return 0;
}

static void kpatch_plan(struct kpatch_switch *sw, struct kpatch_func *func,
			struct kpatch_func *to)
{
	struct kpatch_ops *ops = func->ops;

	sw->func = func;
	sw->ops = ops;
	sw->to = to;
	sw->check = to != ops->active && !(func->flags & KPATCH_FUNC_NO_STACK_CHECK);
	sw->range[0][0] = func->old_addr;
	sw->range[0][1] = func->old_addr + func->old_size;
	if (ops->active) {
		sw->range[1][0] = ops->active->new_addr;
		sw->range[1][1] = ops->active->new_addr + ops->active->new_size;
	}
}

static void kpatch_report_blocker(struct kpatch_patch *patch, const char *op,
				  const struct kpatch_transition *tr)
{
	unsigned int i;

	switch (tr->blocker) {
	case KPATCH_BLOCK_FUNC:
		kpatch_set_error(patch, op, -EBUSY,
				 "function '%s' in use by %s/%d (tried %d times)",
				 tr->func_name, tr->comm, tr->pid, KPATCH_TRIES);
		break;
	case KPATCH_BLOCK_UNRELIABLE:
		kpatch_set_error(patch, op, -EBUSY,
				 "stack of %s/%d cannot be unwound reliably (%d; tried %d times)",
				 tr->comm, tr->pid, tr->unwind_err, KPATCH_TRIES);
		break;
	case KPATCH_BLOCK_RUNNING:
		kpatch_set_error(patch, op, -EBUSY,
				 "task %s/%d was running during stop_machine (tried %d times)",
				 tr->comm, tr->pid, KPATCH_TRIES);
		break;
	case KPATCH_BLOCK_NONE:
		break;
	}
	for (i = 0; i < tr->nr_entries; i++)
		pr_info("  %s/%d: %pS\n", tr->comm, tr->pid, (void *)tr->entries[i]);
}

/* Runs the planned switch, retrying while busy. Caller holds kpatch_mutex. */
static int kpatch_transition(struct kpatch_patch *patch, const char *op,
			     struct kpatch_switch *sw, unsigned int nr)
{
	struct kpatch_transition *tr = &kpatch_tr;
	unsigned int try;
	int ret;
	u64 start;

	__kpatch_nudge_begin(patch, op);
	for (try = 1; ; try++) {
		memset(tr, 0, sizeof(*tr));
		tr->sw = sw;
		tr->nr = nr;
		start = ktime_get_ns();
		ret = stop_machine(kpatch_switch_cb, tr, NULL);
		kpatch_stats.stop_machine_ns = ktime_get_ns() - start;
		kpatch_stats.check_ns = tr->check_ns;
		kpatch_stats.tasks_checked = tr->tasks_checked;
		kpatch_stats.tasks_skipped = tr->tasks_skipped;
		if (ret != -EBUSY)
			break;
		/* A sleeper moved out of the way (nudge.c): retry now, not counted. */
		if (tr->blocker == KPATCH_BLOCK_FUNC && __kpatch_nudge(tr->pid)) {
			try--;
			continue;
		}
		if (try == KPATCH_TRIES)
			break;
		msleep(KPATCH_RETRY_MS);
	}
	__kpatch_nudge_end();
	if (ret == -EBUSY)
		kpatch_report_blocker(patch, op, tr);
	else if (ret)
		kpatch_set_error(patch, op, ret, "stop_machine failed");
	return ret;
}

/*
 * Enables @patch: its functions go on top of (or, for an older patch, under) the ops
 * stacks, then one stop_machine switches every function whose running version
 * changes. On failure the kernel is exactly as before. Caller holds kpatch_mutex.
 */
int __kpatch_enable_patch(struct kpatch_patch *patch)
{
	struct kpatch_switch *sw;
	unsigned int i;
	int ret;

	lockdep_assert_held(&kpatch_mutex);
	if (patch->enabled)
		return 0;
	ret = __kpatch_hook_pre_patch(patch);
	if (ret)
		return ret;
	sw = kcalloc(patch->nr_funcs, sizeof(*sw), GFP_KERNEL);
	if (!sw) {
		ret = -ENOMEM;
		goto err_hook;
	}
	if (!try_module_get(patch->mod)) {
		kpatch_set_error(patch, "enable", -ENODEV, "module '%s' is going away",
				 module_name(patch->mod));
		ret = -ENODEV;
		goto err_free;
	}
	for (i = 0; i < patch->nr_funcs; i++) {
		ret = __kpatch_func_attach(&patch->funcs[i]);
		if (ret)
			goto err_detach;
	}
	for (i = 0; i < patch->nr_funcs; i++) {
		struct kpatch_func *func = &patch->funcs[i];

		kpatch_plan(&sw[i], func, list_first_entry(&func->ops->stack,
							    struct kpatch_func, stack_node));
	}
	ret = kpatch_transition(patch, "enable", sw, patch->nr_funcs);
	if (ret) {
		i = patch->nr_funcs;
		goto err_detach;
	}
	patch->enabled = true;
	kfree(sw);
	__kpatch_hook_post_patch(patch);
	return 0;

err_detach:
	/* undoes __kpatch_func_attach(): no target moved, so handlers just go away */
	while (i--)
		__kpatch_func_detach(&patch->funcs[i]);
	/* undoes try_module_get() */
	module_put(patch->mod);
err_free:
	kfree(sw);
err_hook:
	/* undoes the pre-patch hook */
	__kpatch_hook_post_unpatch(patch);
	return ret;
}

/*
 * Disables @patch: functions it is running now fall back to the next patch below on
 * the stack, or to the original. On failure nothing changed. Caller holds kpatch_mutex.
 */
int __kpatch_disable_patch(struct kpatch_patch *patch)
{
	struct kpatch_switch *sw;
	unsigned int i;
	int ret;

	lockdep_assert_held(&kpatch_mutex);
	if (!patch->enabled)
		return 0;
	__kpatch_hook_pre_unpatch(patch);
	sw = kcalloc(patch->nr_funcs, sizeof(*sw), GFP_KERNEL);
	if (!sw) {
		__kpatch_hook_post_patch(patch);	/* undoes the pre-unpatch hook */
		return -ENOMEM;
	}
	for (i = 0; i < patch->nr_funcs; i++) {
		struct kpatch_func *func = &patch->funcs[i];
		struct kpatch_func *to = func->ops->active;

		/* Only the running version moves; one below stays where it is. */
		if (to == func)
			to = list_is_last(&func->stack_node, &func->ops->stack) ? NULL :
				list_next_entry(func, stack_node);
		kpatch_plan(&sw[i], func, to);
	}
	ret = kpatch_transition(patch, "disable", sw, patch->nr_funcs);
	kfree(sw);
	if (ret) {
		/* no target moved; the patch still runs, so undo the pre-unpatch hook */
		__kpatch_hook_post_patch(patch);
		return ret;
	}
	for (i = 0; i < patch->nr_funcs; i++)
		__kpatch_func_detach(&patch->funcs[i]);
	patch->enabled = false;
	__kpatch_hook_post_unpatch(patch);
	module_put(patch->mod);
	return 0;
}
