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
#include <linux/sort.h>
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
};

/*
 * Code no stack may hold during a switch, one range per part of a function: the
 * original and its cold part, and the version running now and its cold part. The
 * original is checked even when a replacement is active, because a task can be
 * caught between the handler and the jump to the replacement, with only the
 * original's return address on its stack. Sorted by start and disjoint, so each
 * return address costs one binary search, not a pass over every function.
 */
struct kpatch_range {
	unsigned long start, end;
	const char *name;		/* the replaced function, for the message */
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
	struct kpatch_range *ranges;
	unsigned int nr_ranges;
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

/* The range holding @addr, or NULL. */
static const struct kpatch_range *kpatch_find_range(const struct kpatch_transition *tr,
						    unsigned long addr)
{
	unsigned int lo = 0, hi = tr->nr_ranges;

	/* Find the last range starting at or before @addr. */
	while (lo < hi) {
		unsigned int mid = lo + (hi - lo) / 2;

		if (tr->ranges[mid].start <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo && addr < tr->ranges[lo - 1].end)
		return &tr->ranges[lo - 1];
	return NULL;
}

/* Returns -EBUSY when @t blocks the switch. Runs inside stop_machine. */
static int kpatch_check_task(struct kpatch_transition *tr, struct task_struct *t)
{
	unsigned int i;
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
		const struct kpatch_range *r = kpatch_find_range(tr, kpatch_entries[i]);

		if (r) {
			kpatch_block(tr, t, KPATCH_BLOCK_FUNC);
			tr->func_name = r->name;
			tr->nr_entries = nr;
			memcpy(tr->entries, kpatch_entries, nr * sizeof(kpatch_entries[0]));
			return -EBUSY;
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
	sw->func = func;
	sw->ops = func->ops;
	sw->to = to;
}

static void kpatch_add_range(struct kpatch_range *ranges, unsigned int *nr,
			     unsigned long start, unsigned long size, const char *name)
{
	if (!size)
		return;
	ranges[*nr].start = start;
	ranges[*nr].end = start + size;
	ranges[*nr].name = name;
	(*nr)++;
}

static int kpatch_cmp_range(const void *a, const void *b)
{
	const struct kpatch_range *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

/* Most ranges one switch adds: the original and the active version, two parts each. */
#define KPATCH_RANGES_PER_SWITCH	4

/*
 * Fills @ranges (room for KPATCH_RANGES_PER_SWITCH per switch) with the code no stack
 * may hold for the planned switches, sorted, and returns how many. Functions whose
 * running version does not change are not checked. KPATCH_FUNC_NO_STACK_CHECK (a
 * function some task never leaves, like a kthread's loop) skips the original's body
 * while the versions running now stay loaded (a plain enable). When they go away with
 * their modules (@active_leaves: a disable, or the patches a cumulative patch replaces)
 * they are checked, and of the original only the return address that the ftrace call
 * leaves (a task preempted in the trampoline, about to jump to that version).
 */
static unsigned int kpatch_build_ranges(const struct kpatch_switch *sw, unsigned int nr,
					bool active_leaves, struct kpatch_range *ranges)
{
	unsigned int i, n = 0, out;

	for (i = 0; i < nr; i++) {
		const struct kpatch_func *f = sw[i].func;
		const struct kpatch_func *active = sw[i].ops->active;

		if (sw[i].to == active)
			continue;
		if (!(f->flags & KPATCH_FUNC_NO_STACK_CHECK)) {
			kpatch_add_range(ranges, &n, f->old_addr, f->old_size, f->old_name);
			kpatch_add_range(ranges, &n, f->old_cold_addr, f->old_cold_size,
					 f->old_name);
		} else if (active_leaves) {
			kpatch_add_range(ranges, &n, f->old_addr + MCOUNT_INSN_SIZE, 1,
					 f->old_name);
		} else {
			continue;
		}
		if (active) {
			kpatch_add_range(ranges, &n, active->new_addr, active->new_size,
					 f->old_name);
			kpatch_add_range(ranges, &n, active->new_cold_addr,
					 active->new_cold_size, f->old_name);
		}
	}
	sort(ranges, n, sizeof(*ranges), kpatch_cmp_range, NULL);
	/*
	 * Different functions' code does not overlap, but kallsyms sizes are only as good
	 * as the symbol table: merge any overlap so the binary search stays exact.
	 */
	for (i = 1, out = 0; i < n; i++) {
		if (ranges[i].start < ranges[out].end)
			ranges[out].end = max(ranges[out].end, ranges[i].end);
		else
			ranges[++out] = ranges[i];
	}
	return n ? out + 1 : 0;
}

static void __kpatch_report_blocker(struct kpatch_patch *patch, const char *op,
				    const struct kpatch_transition *tr)
{
	unsigned int i;

	lockdep_assert_held(&kpatch_mutex);
	switch (tr->blocker) {
	case KPATCH_BLOCK_FUNC:
		__kpatch_set_error(patch, op, -EBUSY,
				   "function '%s' in use by %s/%d (tried %d times)",
				   tr->func_name, tr->comm, tr->pid, KPATCH_TRIES);
		break;
	case KPATCH_BLOCK_UNRELIABLE:
		__kpatch_set_error(patch, op, -EBUSY,
				   "stack of %s/%d cannot be unwound reliably (%d; tried %d times)",
				   tr->comm, tr->pid, tr->unwind_err, KPATCH_TRIES);
		break;
	case KPATCH_BLOCK_RUNNING:
		__kpatch_set_error(patch, op, -EBUSY,
				   "task %s/%d was running during stop_machine (tried %d times)",
				   tr->comm, tr->pid, KPATCH_TRIES);
		break;
	case KPATCH_BLOCK_NONE:
		break;
	}
	for (i = 0; i < tr->nr_entries; i++)
		pr_info("  %s/%d: %pS\n", tr->comm, tr->pid, (void *)tr->entries[i]);
}

/*
 * Runs the planned switch, retrying while busy. @sw has room for
 * KPATCH_RANGES_PER_SWITCH ranges per switch after its @nr entries (kpatch_sw_alloc).
 * @active_leaves: the versions running now go away (kpatch_build_ranges()).
 * Caller holds kpatch_mutex.
 */
static int __kpatch_transition(struct kpatch_patch *patch, const char *op,
			       struct kpatch_switch *sw, unsigned int nr, bool active_leaves)
{
	struct kpatch_transition *tr = &kpatch_tr;
	struct kpatch_range *ranges = (struct kpatch_range *)(sw + nr);
	unsigned int nr_ranges, try;
	int ret;
	u64 start;

	lockdep_assert_held(&kpatch_mutex);
	nr_ranges = kpatch_build_ranges(sw, nr, active_leaves, ranges);
	__kpatch_nudge_begin(patch, op);
	for (try = 1; ; try++) {
		memset(tr, 0, sizeof(*tr));
		tr->sw = sw;
		tr->nr = nr;
		tr->ranges = ranges;
		tr->nr_ranges = nr_ranges;
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
		__kpatch_report_blocker(patch, op, tr);
	else if (ret)
		__kpatch_set_error(patch, op, ret, "stop_machine failed");
	return ret;
}

/*
 * The plan of a switch of up to @nr functions (@patch's, and those of the patches it
 * replaces) and, behind it, room for its ranges; kvfree() it. NULL (and last_error
 * set) when there is no memory.
 */
static struct kpatch_switch *__kpatch_sw_alloc(struct kpatch_patch *patch, const char *op,
					       unsigned int nr)
{
	size_t size = (size_t)nr * (sizeof(struct kpatch_switch) +
				    KPATCH_RANGES_PER_SWITCH * sizeof(struct kpatch_range));
	struct kpatch_switch *sw = kvzalloc(size, GFP_KERNEL);

	lockdep_assert_held(&kpatch_mutex);
	if (!sw)
		__kpatch_set_error(patch, op, -ENOMEM,
				   "no memory to plan the switch of %u functions", nr);
	return sw;
}

/* Does a function of @patch share the ftrace ops (the address) of @ops? */
static bool kpatch_ops_has(const struct kpatch_ops *ops, const struct kpatch_patch *patch)
{
	const struct kpatch_func *f;

	list_for_each_entry(f, &ops->stack, stack_node)
		if (f->patch == patch)
			return true;
	return false;
}

/*
 * Plans, for a cumulative @patch whose functions are attached, the switch back to the
 * original of every function that only the replaced patches change: one per address,
 * through the version running there (whose code the check then covers). Returns how
 * many it added at @sw.
 */
static unsigned int kpatch_plan_reverts(const struct kpatch_patch *patch,
					const struct kpatch_replace *rep,
					struct kpatch_switch *sw)
{
	unsigned int i, j, nr = 0;

	for (i = 0; i < rep->nr; i++) {
		for (j = 0; j < rep->old[i]->nr_funcs; j++) {
			struct kpatch_func *func = &rep->old[i]->funcs[j];

			if (!func->ops || func->ops->active != func ||
			    kpatch_ops_has(func->ops, patch))
				continue;
			kpatch_plan(&sw[nr++], func, NULL);
		}
	}
	return nr;
}

/*
 * Enables @patch: the functions of its objects that are present now (vmlinux, modules
 * that are loaded: module.c) go on top of (or, for an older patch, under) the ops
 * stacks, then one stop_machine switches every function whose running version
 * changes. A module that is not loaded gets its part when it loads. A cumulative
 * patch (replace.c) also sends, in the same switch, every function that only the
 * patches it replaces change back to the original, and then retires those patches.
 * On failure the kernel is exactly as before. Caller holds kpatch_mutex.
 */
int __kpatch_enable_patch(struct kpatch_patch *patch)
{
	struct kpatch_replace rep = {};
	struct kpatch_switch *sw;
	unsigned int i, nr = 0;
	int ret;

	lockdep_assert_held(&kpatch_mutex);
	if (patch->enabled)
		return 0;
	if (patch->replaced_by) {
		__kpatch_set_error(patch, "enable", -EPERM,
				   "it was replaced by patch '%s'; remove its module and load it again to use it",
				   patch->replaced_by);
		return -EPERM;
	}
	if (patch->replace) {
		ret = __kpatch_replace_begin(patch, &rep);
		if (ret)
			return ret;
	}
	sw = __kpatch_sw_alloc(patch, "enable", patch->nr_funcs + rep.nr_funcs);
	if (!sw) {
		ret = -ENOMEM;
		goto err_replace;
	}
	if (!try_module_get(patch->mod)) {
		__kpatch_set_error(patch, "enable", -ENODEV, "module '%s' is going away",
				   module_name(patch->mod));
		ret = -ENODEV;
		goto err_free;
	}
	ret = __kpatch_objects_prepare(patch);
	if (ret)
		goto err_put;
	/*
	 * After the prepare: hooks that belong to a module run only when it is loaded
	 * (it now stays until the switch); otherwise module.c runs them when it loads.
	 */
	if (__kpatch_hooks_present(patch)) {
		ret = __kpatch_hook_pre_patch(patch);
		if (ret)
			goto err_prepare;
	}
	for (i = 0; i < patch->nr_funcs; i++) {
		if (!kpatch_func_present(&patch->funcs[i]))
			continue;
		ret = __kpatch_func_attach(&patch->funcs[i]);
		if (ret)
			goto err_detach;
	}
	ret = __kpatch_ops_commit(patch);
	if (ret)
		goto err_detach;	/* i == patch->nr_funcs */
	for (i = 0; i < patch->nr_funcs; i++) {
		struct kpatch_func *func = &patch->funcs[i];

		if (!func->ops)
			continue;
		/* a cumulative patch wins over every patch it replaces, newer ones too */
		kpatch_plan(&sw[nr++], func, patch->replace ? func :
			    list_first_entry(&func->ops->stack, struct kpatch_func, stack_node));
	}
	if (patch->replace)
		nr += kpatch_plan_reverts(patch, &rep, sw + nr);
	/* nothing present (only modules that are not loaded): no stop_machine needed */
	ret = nr ? __kpatch_transition(patch, "enable", sw, nr, patch->replace) : 0;
	if (ret) {
		i = patch->nr_funcs;
		goto err_detach;
	}
	patch->enabled = true;
	__kpatch_objects_finish(patch, true);
	kvfree(sw);
	if (patch->replace)
		__kpatch_replace_finish(patch, &rep);
	if (patch->hooks_active)
		__kpatch_hook_post_patch(patch);
	return 0;

err_detach:
	/*
	 * undoes __kpatch_func_attach() and __kpatch_ops_commit(): no target moved, so
	 * handlers just go away
	 */
	while (i--)
		if (patch->funcs[i].ops)
			__kpatch_func_detach(&patch->funcs[i]);
	__kpatch_ops_flush();
	/* undoes the pre-patch hook */
	if (patch->hooks_active)
		__kpatch_hook_post_unpatch(patch);
err_prepare:
	/* undoes __kpatch_objects_prepare() (drops the module references) */
	__kpatch_objects_finish(patch, false);
err_put:
	/* undoes try_module_get() */
	module_put(patch->mod);
err_free:
	kvfree(sw);
err_replace:
	/* undoes __kpatch_replace_begin() (a no-op for a plain patch) */
	__kpatch_replace_cancel(&rep);
	return ret;
}

/*
 * Disables @patch: functions it is running now fall back to the next patch below on
 * the stack, or to the original. On failure nothing changed. Caller holds kpatch_mutex.
 */
int __kpatch_disable_patch(struct kpatch_patch *patch)
{
	struct kpatch_switch *sw;
	unsigned int i, nr = 0;
	bool hooks;
	int ret;

	lockdep_assert_held(&kpatch_mutex);
	if (!patch->enabled)
		return 0;
	/* not active: they belong to a module that is not loaded (module.c) */
	hooks = patch->hooks_active;
	if (hooks)
		__kpatch_hook_pre_unpatch(patch);
	sw = __kpatch_sw_alloc(patch, "disable", patch->nr_funcs);
	if (!sw) {
		if (hooks)
			__kpatch_hook_post_patch(patch);	/* undoes the pre-unpatch hook */
		return -ENOMEM;
	}
	for (i = 0; i < patch->nr_funcs; i++) {
		struct kpatch_func *func = &patch->funcs[i];
		struct kpatch_func *to;

		if (!func->ops)		/* its module is not loaded */
			continue;
		/* Only the running version moves; one below stays where it is. */
		to = func->ops->active;
		if (to == func)
			to = list_is_last(&func->stack_node, &func->ops->stack) ? NULL :
				list_next_entry(func, stack_node);
		kpatch_plan(&sw[nr++], func, to);
	}
	ret = nr ? __kpatch_transition(patch, "disable", sw, nr, true) : 0;
	kvfree(sw);
	if (ret) {
		/* no target moved; the patch still runs, so undo the pre-unpatch hook */
		if (hooks)
			__kpatch_hook_post_patch(patch);
		return ret;
	}
	__kpatch_patch_retire(patch);
	if (hooks)
		__kpatch_hook_post_unpatch(patch);
	module_put(patch->mod);
	return 0;
}
