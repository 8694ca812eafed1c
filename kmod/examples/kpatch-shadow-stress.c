// SPDX-License-Identifier: GPL-2.0-only
/*
 * kpatch-shadow-stress.c - a test module (not a patch) for the shadow-variable API:
 * one thread per online CPU and a hard-interrupt timer attach and free shadow
 * variables of the same few objects at once for a while, then it checks that no
 * object ever got two variables, every constructor ran exactly once per variable and
 * every variable was destroyed. Its init fails with EINVAL when a check fails (the
 * reason is in the kernel log), so a successful insmod is the verdict.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/completion.h>
#include <linux/delay.h>
#include <linux/hrtimer.h>
#include <linux/kthread.h>
#include <linux/module.h>
#include <linux/random.h>
#include <linux/slab.h>
#include "kpatch-shadow.h"

#define STRESS_ID	KPATCH_SHADOW_ID('s', 't', 'r', 1)
#define STRESS_OBJS	16
#define STRESS_MS	1000

static char stress_objs[STRESS_OBJS];	/* only their addresses matter */
static atomic_t stress_ctors, stress_dtors, stress_nomem, stress_bad;
static atomic_t stress_running;
static struct hrtimer stress_timer;

struct stress_data {
	void *obj;
	unsigned long magic;
};

static int stress_ctor(void *obj, void *shadow_data, void *ctor_data)
{
	struct stress_data *d = shadow_data;

	d->obj = obj;
	d->magic = (unsigned long)ctor_data;
	atomic_inc(&stress_ctors);
	/*
	 * A constructor runs only for an object that has no variable yet; the lookup
	 * is lock-free, so it is safe here (the header forbids the rest of the API).
	 */
	if (kpatch_shadow_get(obj, STRESS_ID)) {
		pr_err_ratelimited("constructor ran for %px, which has a variable\n", obj);
		atomic_inc(&stress_bad);
	}
	return 0;
}

static void stress_dtor(void *obj, void *shadow_data)
{
	struct stress_data *d = shadow_data;

	if (d->obj != obj)
		atomic_inc(&stress_bad);
	atomic_inc(&stress_dtors);
}

/* One step: attach to one object, check what came back, free another's. */
static void stress_step(gfp_t gfp)
{
	void *obj = &stress_objs[get_random_u32() % STRESS_OBJS];
	struct stress_data *d;

	d = kpatch_shadow_get_or_alloc(obj, STRESS_ID, sizeof(*d), gfp, stress_ctor,
				       (void *)0x5ad0UL);
	if (!d)
		atomic_inc(&stress_nomem);
	else if (d->obj != obj || d->magic != 0x5ad0UL)
		atomic_inc(&stress_bad);
	kpatch_shadow_free(&stress_objs[get_random_u32() % STRESS_OBJS], STRESS_ID,
			   stress_dtor);
}

static enum hrtimer_restart stress_timer_fn(struct hrtimer *t)
{
	if (!atomic_read(&stress_running))
		return HRTIMER_NORESTART;
	stress_step(GFP_ATOMIC);
	hrtimer_forward_now(t, ns_to_ktime(200 * NSEC_PER_USEC));
	return HRTIMER_RESTART;
}

static int stress_thread(void *done)
{
	unsigned long n = 0;

	while (atomic_read(&stress_running)) {
		stress_step(GFP_KERNEL);
		if (!(++n % 64))
			cond_resched();
	}
	complete(done);
	return 0;
}

/* Checks the API's answers outside the race: duplicates, a failing constructor. */
static int stress_fail_ctor(void *obj, void *shadow_data, void *ctor_data)
{
	return -ENOSPC;
}

static bool stress_check_api(void)
{
	void *obj = &stress_objs[0];
	bool ok = true;

	if (kpatch_shadow_alloc(obj, STRESS_ID + 1, 8, GFP_KERNEL, stress_fail_ctor, NULL) ||
	    kpatch_shadow_get(obj, STRESS_ID + 1)) {
		pr_err("a failing constructor left a variable\n");
		ok = false;
	}
	if (!kpatch_shadow_alloc(obj, STRESS_ID + 1, 8, GFP_KERNEL, NULL, NULL) ||
	    kpatch_shadow_alloc(obj, STRESS_ID + 1, 8, GFP_KERNEL, NULL, NULL)) {
		pr_err("alloc did not refuse a second variable of the same id\n");
		ok = false;
	}
	if (kpatch_shadow_get_or_alloc(obj, STRESS_ID + 1, 8, GFP_KERNEL, NULL, NULL) !=
	    kpatch_shadow_get(obj, STRESS_ID + 1)) {
		pr_err("get_or_alloc did not return the existing variable\n");
		ok = false;
	}
	kpatch_shadow_free(obj, STRESS_ID + 1, NULL);
	if (kpatch_shadow_get(obj, STRESS_ID + 1)) {
		pr_err("free left the variable\n");
		ok = false;
	}
	return ok;
}

static int __init stress_init(void)
{
	struct completion *done;
	cpumask_var_t started;
	int cpu, alive = 0, i;

	if (!stress_check_api())
		return -EINVAL;
	done = kcalloc(nr_cpu_ids, sizeof(*done), GFP_KERNEL);
	if (!done || !zalloc_cpumask_var(&started, GFP_KERNEL)) {
		kfree(done);
		return -ENOMEM;
	}
	atomic_set(&stress_running, 1);
	hrtimer_init(&stress_timer, CLOCK_MONOTONIC, HRTIMER_MODE_REL_HARD);
	stress_timer.function = stress_timer_fn;
	hrtimer_start(&stress_timer, ns_to_ktime(200 * NSEC_PER_USEC), HRTIMER_MODE_REL_HARD);
	for_each_online_cpu(cpu) {
		struct task_struct *t;

		init_completion(&done[cpu]);
		t = kthread_create_on_cpu(stress_thread, &done[cpu], cpu, "kpatch-shadow/%u");
		if (IS_ERR(t))
			continue;
		wake_up_process(t);
		cpumask_set_cpu(cpu, started);
	}
	msleep(STRESS_MS);
	atomic_set(&stress_running, 0);
	hrtimer_cancel(&stress_timer);
	for_each_cpu(cpu, started)
		wait_for_completion(&done[cpu]);
	free_cpumask_var(started);
	kfree(done);

	/* No object may have two variables: what is alive is what was built, less freed. */
	for (i = 0; i < STRESS_OBJS; i++)
		alive += !!kpatch_shadow_get(&stress_objs[i], STRESS_ID);
	if (atomic_read(&stress_ctors) - atomic_read(&stress_dtors) != alive) {
		pr_err("%d constructed, %d destroyed, but %d alive: a duplicate or a lost variable\n",
		       atomic_read(&stress_ctors), atomic_read(&stress_dtors), alive);
		atomic_inc(&stress_bad);
	}
	kpatch_shadow_free_all(STRESS_ID, stress_dtor);
	if (atomic_read(&stress_ctors) != atomic_read(&stress_dtors)) {
		pr_err("free_all: %d constructed but %d destroyed\n",
		       atomic_read(&stress_ctors), atomic_read(&stress_dtors));
		atomic_inc(&stress_bad);
	}
	pr_info("%d variables constructed and destroyed, %d allocations failed, %d bad\n",
		atomic_read(&stress_ctors), atomic_read(&stress_nomem),
		atomic_read(&stress_bad));
	return atomic_read(&stress_bad) ? -EINVAL : 0;
}

static void __exit stress_exit(void)
{
}

module_init(stress_init);
module_exit(stress_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kpatch test: shadow variables attached and freed from threads and a hard irq at once");
