// SPDX-License-Identifier: GPL-2.0-only
/*
 * kpatch-bench.c - in-kernel measurements for the benchmarks (bench/core-*.sh).
 * Reading a file under /sys/kernel/kpatch_bench/ runs the measurement:
 *   empty_stop_machine_ns  one stop_machine() with an empty callback, timed the way
 *                          the core times its own (the whole call)
 *   call_ns                KPATCH_BENCH_CALLS calls of jiffies_to_msecs() through a
 *                          pointer: "calls=<n> total_ns=<t> ns_per_call=<x.yy>";
 *                          kpatch-bench-patch.ko patches that function
 *   now_ns                 ktime_get_ns(): a clock for guest scripts (busybox date has
 *                          no %N)
 */
#include <linux/jiffies.h>
#include <linux/kobject.h>
#include <linux/math64.h>
#include <linux/module.h>
#include <linux/sched.h>
#include <linux/stop_machine.h>
#include <linux/sysfs.h>
#include <linux/timekeeping.h>

#define KPATCH_BENCH_CALLS	1000000U
#define KPATCH_BENCH_CHUNK	10000U

static struct kobject *kpatch_bench_kobj;

static int kpatch_bench_nothing(void *data)
{
	return 0;
}

static ssize_t empty_stop_machine_ns_show(struct kobject *kobj,
					  struct kobj_attribute *attr, char *buf)
{
	u64 start = ktime_get_ns();
	int ret = stop_machine(kpatch_bench_nothing, NULL, NULL);

	if (ret)
		return ret;
	return sysfs_emit(buf, "%llu\n", ktime_get_ns() - start);
}

/* Through a volatile pointer so the compiler cannot inline or hoist the call. */
static unsigned int (*volatile kpatch_bench_target)(const unsigned long j) = jiffies_to_msecs;

static ssize_t call_ns_show(struct kobject *kobj, struct kobj_attribute *attr, char *buf)
{
	unsigned int i, n, sink = 0;
	u64 total = 0, start, x100;

	/* Chunks with preemption off, so the figure is not the scheduler's. */
	for (n = 0; n < KPATCH_BENCH_CALLS; n += KPATCH_BENCH_CHUNK) {
		preempt_disable();
		start = ktime_get_ns();
		for (i = 0; i < KPATCH_BENCH_CHUNK; i++)
			sink += kpatch_bench_target(i);
		total += ktime_get_ns() - start;
		preempt_enable();
		cond_resched();
	}
	x100 = div_u64(total * 100, KPATCH_BENCH_CALLS);
	return sysfs_emit(buf, "calls=%u total_ns=%llu ns_per_call=%llu.%02llu sink=%u\n",
			  KPATCH_BENCH_CALLS, total, div_u64(x100, 100), x100 % 100, sink);
}

static ssize_t now_ns_show(struct kobject *kobj, struct kobj_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%llu\n", ktime_get_ns());
}

static struct kobj_attribute now_ns_attr = __ATTR_RO(now_ns);
static struct kobj_attribute empty_stop_machine_ns_attr = __ATTR_RO(empty_stop_machine_ns);
static struct kobj_attribute call_ns_attr = __ATTR_RO(call_ns);
static struct attribute *kpatch_bench_attrs[] = {
	&empty_stop_machine_ns_attr.attr, &call_ns_attr.attr, &now_ns_attr.attr, NULL,
};
static const struct attribute_group kpatch_bench_group = { .attrs = kpatch_bench_attrs };

static int __init kpatch_bench_init(void)
{
	int ret;

	kpatch_bench_kobj = kobject_create_and_add("kpatch_bench", kernel_kobj);
	if (!kpatch_bench_kobj)
		return -ENOMEM;
	ret = sysfs_create_group(kpatch_bench_kobj, &kpatch_bench_group);
	if (ret)
		kobject_put(kpatch_bench_kobj);	/* undoes kobject_create_and_add() */
	return ret;
}

static void __exit kpatch_bench_exit(void)
{
	sysfs_remove_group(kpatch_bench_kobj, &kpatch_bench_group);
	kobject_put(kpatch_bench_kobj);
}

module_init(kpatch_bench_init);
module_exit(kpatch_bench_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kpatch benchmark helper: stop_machine and call cost");
