// SPDX-License-Identifier: GPL-2.0-only
/*
 * nudge.c - gets tasks that sleep interruptibly inside a function being switched
 * (init in do_wait, a reader in pipe_read) out of it, so the switch can happen.
 *
 * Waking such a task is not enough under stop_machine: a woken do_wait() restarts and
 * is back asleep in the same function microseconds later. So the task gets a task_work
 * queued with TWA_SIGNAL (TIF_NOTIFY_SIGNAL: a fake signal; nothing is delivered). Its
 * sleep ends as for a signal, the syscall unwinds to the return to user space, and the
 * work runs there, outside every patched function, holding no kernel lock. The work
 * parks the task until the transition ends; then the syscall restarts (-ERESTARTSYS and
 * friends) and re-enters the function, now its new version. A syscall that returns
 * -EINTR instead of restarting (epoll_wait, for one) reports EINTR to the program:
 * the trade-off kpatch(7) documents, and why the module parameter `nudge` can turn it
 * off. Kthreads never return to user space; a freezable one (which must cope with
 * spurious wakeups) is only woken, in case its loop leaves the function.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/delay.h>
#include <linux/moduleparam.h>
#include <linux/pid.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/sysfs.h>
#include <linux/task_work.h>
#include <linux/wait.h>
#include "core.h"

static bool kpatch_nudge_enabled = true;
module_param_named(nudge, kpatch_nudge_enabled, bool, 0644);
MODULE_PARM_DESC(nudge, "wake tasks that sleep interruptibly in a function being switched (default 1)");

/* Tasks nudged by one transition at most; each costs one extra stop_machine. */
#define KPATCH_MAX_NUDGED	16
/* How long a transition waits for a nudged task to reach the park. */
#define KPATCH_PARK_ARRIVE_MS	200
/* A parked task goes back to its syscall after this long whatever happens. */
#define KPATCH_PARK_MAX_MS	5000

struct kpatch_nudged {
	pid_t pid;
	char comm[TASK_COMM_LEN];
	bool kthread;
};

/* What the last transition nudged, shown in /sys/kernel/kpatch/nudged (kpatch_mutex). */
static struct {
	char patch[MODULE_NAME_LEN];
	const char *op;
	unsigned int nr, parked;
	struct kpatch_nudged tasks[KPATCH_MAX_NUDGED];
} kpatch_nudged;

/*
 * The park. A transition's parked tasks wait until kpatch_park_gen moves past the
 * generation they were parked for; kpatch_park_arrived counts the ones waiting now, so
 * the transition knows when to retry. Both are read locklessly by parked tasks; the
 * wait queue orders them (wake_up_all() after the write, wait_event re-checks).
 */
static DECLARE_WAIT_QUEUE_HEAD(kpatch_park_wq);
static atomic_long_t kpatch_park_gen = ATOMIC_LONG_INIT(0);
static atomic_t kpatch_park_arrived = ATOMIC_INIT(0);
/* Works queued and not yet finished; the core's exit waits for 0 (its code runs them). */
static atomic_t kpatch_park_pending = ATOMIC_INIT(0);
static bool kpatch_park_used;		/* kpatch_mutex */

struct kpatch_park {
	struct callback_head work;
	long gen;
};

/* Runs in the nudged task, on its way back to user space. */
static void kpatch_park(struct callback_head *work)
{
	struct kpatch_park *park = container_of(work, struct kpatch_park, work);
	long gen = park->gen;

	kfree(park);
	/* A late arrival (the transition is over) goes straight back. */
	if (atomic_long_read(&kpatch_park_gen) == gen) {
		atomic_inc(&kpatch_park_arrived);
		wake_up_all(&kpatch_park_wq);
		/* Killable: SIGKILL ends the wait; the task then only dies. */
		wait_event_killable_timeout(kpatch_park_wq,
					    atomic_long_read(&kpatch_park_gen) != gen,
					    msecs_to_jiffies(KPATCH_PARK_MAX_MS));
		atomic_dec(&kpatch_park_arrived);
	}
	/* The last thing done here; kpatch_nudge_exit() polls for 0. */
	atomic_dec(&kpatch_park_pending);
}

void __kpatch_nudge_begin(struct kpatch_patch *patch, const char *op)
{
	lockdep_assert_held(&kpatch_mutex);
	strscpy(kpatch_nudged.patch, patch->name, sizeof(kpatch_nudged.patch));
	kpatch_nudged.op = op;
	kpatch_nudged.nr = 0;
	kpatch_nudged.parked = 0;
}

static bool kpatch_was_nudged(pid_t pid)
{
	unsigned int i;

	for (i = 0; i < kpatch_nudged.nr; i++)
		if (kpatch_nudged.tasks[i].pid == pid)
			return true;
	return false;
}

/* Queues the park on @t; 0 or -errno (the task is exiting, or no memory). */
static int kpatch_park_task(struct task_struct *t)
{
	struct kpatch_park *park;
	int ret;

	park = kzalloc(sizeof(*park), GFP_KERNEL);
	if (!park)
		return -ENOMEM;
	init_task_work(&park->work, kpatch_park);
	park->gen = atomic_long_read(&kpatch_park_gen);
	kpatch_park_used = true;
	atomic_inc(&kpatch_park_pending);
	/* TWA_SIGNAL: sets TIF_NOTIFY_SIGNAL and wakes an interruptible sleep. */
	ret = task_work_add(t, &park->work, TWA_SIGNAL);
	if (ret) {
		atomic_dec(&kpatch_park_pending);	/* undoes the count */
		kfree(park);				/* undoes kzalloc() */
	}
	return ret;
}

/* Is @t asleep in a way a (fake) signal ends? */
static bool kpatch_sleeps_interruptibly(struct task_struct *t)
{
	unsigned int state = READ_ONCE(t->__state);

	return (state & TASK_NORMAL) == TASK_INTERRUPTIBLE && !t->exit_state &&
	       !(t->flags & PF_EXITING);
}

/*
 * Called after a stop_machine attempt found task @pid inside a function being
 * switched. Nudges it if that can help and it was not nudged yet; then waits until it
 * reached the park. Returns true when the caller should try again at once.
 */
bool __kpatch_nudge(pid_t pid)
{
	struct kpatch_nudged *n;
	struct task_struct *t;
	bool kthread;
	int ret;

	lockdep_assert_held(&kpatch_mutex);
	if (!READ_ONCE(kpatch_nudge_enabled) || kpatch_nudged.nr >= KPATCH_MAX_NUDGED ||
	    kpatch_was_nudged(pid))
		return false;
	rcu_read_lock();
	t = pid_task(find_pid_ns(pid, &init_pid_ns), PIDTYPE_PID);
	if (t)
		get_task_struct(t);
	rcu_read_unlock();
	if (!t)
		return false;	/* it exited meanwhile: the next try will see */

	kthread = t->flags & PF_KTHREAD;
	if (!kpatch_sleeps_interruptibly(t) || (kthread && (t->flags & PF_NOFREEZE))) {
		put_task_struct(t);
		return false;
	}
	if (kthread) {
		ret = kpatch_syms.wake_up_state(t, TASK_INTERRUPTIBLE) ? 0 : -EAGAIN;
	} else {
		ret = kpatch_park_task(t);
	}
	if (ret) {
		put_task_struct(t);
		return false;
	}
	n = &kpatch_nudged.tasks[kpatch_nudged.nr++];
	n->pid = pid;
	n->kthread = kthread;
	get_task_comm(n->comm, t);
	put_task_struct(t);
	pr_info("%s %s: nudged %s/%d out of its interruptible sleep\n", kpatch_nudged.patch,
		kpatch_nudged.op, n->comm, pid);
	if (!kthread) {
		kpatch_nudged.parked++;
		wait_event_timeout(kpatch_park_wq,
				   atomic_read(&kpatch_park_arrived) >= kpatch_nudged.parked,
				   msecs_to_jiffies(KPATCH_PARK_ARRIVE_MS));
	}
	return true;
}

/* Sends every parked task back to its syscall. Caller holds kpatch_mutex. */
void __kpatch_nudge_end(void)
{
	lockdep_assert_held(&kpatch_mutex);
	if (!kpatch_nudged.parked)
		return;
	atomic_long_inc(&kpatch_park_gen);
	wake_up_all(&kpatch_park_wq);
}

/*
 * At core unload: queued parks run our code, so wait until every one has run (a task
 * runs its work at the latest when it exits), then until each such task has scheduled
 * voluntarily since (synchronize_rcu_tasks()), so none is still on the few
 * instructions after the decrement.
 */
void kpatch_nudge_exit(void)
{
	if (!kpatch_park_used)
		return;
	atomic_long_inc(&kpatch_park_gen);
	wake_up_all(&kpatch_park_wq);
	while (atomic_read(&kpatch_park_pending))
		msleep(20);
	synchronize_rcu_tasks();
}

static ssize_t nudged_show(struct kobject *kobj, struct kobj_attribute *attr, char *buf)
{
	unsigned int i;
	int len = 0;

	mutex_lock(&kpatch_mutex);
	for (i = 0; i < kpatch_nudged.nr; i++)
		len += sysfs_emit_at(buf, len, "%s %s %s/%d%s\n", kpatch_nudged.patch,
				     kpatch_nudged.op, kpatch_nudged.tasks[i].comm,
				     kpatch_nudged.tasks[i].pid,
				     kpatch_nudged.tasks[i].kthread ? " kthread" : "");
	mutex_unlock(&kpatch_mutex);
	return len;
}
struct kobj_attribute kpatch_nudged_attr = __ATTR_RO(nudged);
