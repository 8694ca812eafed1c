// SPDX-License-Identifier: GPL-2.0-only
/*
 * klp-bench-patch.c - the same replacement of jiffies_to_msecs() as
 * kpatch-bench-patch.c, applied by the kernel's own livepatch (klp_enable_patch), so
 * bench/core-call-cost.sh can compare the two redirections in one boot. Written for
 * the benchmark only; it does not use the kpatch core.
 */
#include <linux/jiffies.h>
#include <linux/livepatch.h>
#include <linux/module.h>

static unsigned int klp_bench_jiffies_to_msecs(const unsigned long j)
{
	/* kernel/time/time.c's first case; Debian's HZ=250 takes it. */
	BUILD_BUG_ON(HZ > MSEC_PER_SEC || MSEC_PER_SEC % HZ);
	return (MSEC_PER_SEC / HZ) * j;
}

static struct klp_func klp_bench_funcs[] = {
	{ .old_name = "jiffies_to_msecs", .new_func = klp_bench_jiffies_to_msecs },
	{ }
};

static struct klp_object klp_bench_objs[] = {
	{ .name = NULL /* vmlinux */, .funcs = klp_bench_funcs },
	{ }
};

static struct klp_patch klp_bench_patch = {
	.mod = THIS_MODULE,
	.objs = klp_bench_objs,
};

static int __init klp_bench_init(void)
{
	return klp_enable_patch(&klp_bench_patch);
}

static void __exit klp_bench_exit(void)
{
}

module_init(klp_bench_init);
module_exit(klp_bench_exit);
MODULE_LICENSE("GPL");
MODULE_INFO(livepatch, "Y");
MODULE_DESCRIPTION("benchmark: jiffies_to_msecs replaced through the kernel's livepatch");
