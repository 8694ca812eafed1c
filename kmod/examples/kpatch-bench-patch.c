// SPDX-License-Identifier: GPL-2.0-only
/*
 * kpatch-bench-patch.c - patch module for the call-cost benchmark: replaces
 * jiffies_to_msecs() with an equivalent, so the measured difference is the cost of
 * the ftrace redirection alone.
 */
#include <linux/jiffies.h>
#include <linux/module.h>
#include "kpatch-example.h"

static unsigned int kpatch_bench_jiffies_to_msecs(const unsigned long j)
{
	/* kernel/time/time.c's first case; Debian's HZ=250 takes it. */
	BUILD_BUG_ON(HZ > MSEC_PER_SEC || MSEC_PER_SEC % HZ);
	return (MSEC_PER_SEC / HZ) * j;
}

static const struct kpatch_func_desc kpatch_bench_funcs[] = {
	{ .old_name = "jiffies_to_msecs", .new_func = kpatch_bench_jiffies_to_msecs },
};

KPATCH_EXAMPLE_PATCH(kpatch_bench_funcs, "kpatch benchmark: patch jiffies_to_msecs with an equivalent");
