// SPDX-License-Identifier: GPL-2.0-only
/*
 * kpatch-coldsleep.c - test patch module: replaces version_proc_show (/proc/version)
 * with a copy whose error path, split off by GCC into "<name>.cold", can sleep. A task
 * asleep there must block disabling, as one in the function's main part does: its
 * return address is in the cold part, which goes away with the module.
 *
 * Parameters (read at load, except sleep):
 *   sleep=1        a reader of /proc/version sleeps in the cold part until a signal
 *   nap=MS         every reader of /proc/version naps MS milliseconds in the cold part
 *                  (the soak: disabling races with tasks asleep there)
 *   nocheck=1      the function is marked KPATCH_FUNC_NO_STACK_CHECK (which must not
 *                  skip the check on disable)
 *   old_cold=NAME  the original's cold part (resolved by the core; a name that does
 *                  not exist makes the load fail)
 *   bad_flags=1    an invalid description (unknown flag bit): the load fails
 *   twice=1        registers the same description twice: the second must fail (the
 *                  module then loads with the first registration)
 */
#include <linux/delay.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/seq_file.h>
#include <linux/utsname.h>
#include <linux/wait.h>
#include "kpatch.h"

static int sleep;
module_param(sleep, int, 0644);
MODULE_PARM_DESC(sleep, "readers of /proc/version sleep in the cold part until a signal");
static int nap;
module_param(nap, int, 0644);
MODULE_PARM_DESC(nap, "every reader of /proc/version naps this many ms in the cold part");
static bool nocheck;
module_param(nocheck, bool, 0444);
MODULE_PARM_DESC(nocheck, "mark the function KPATCH_FUNC_NO_STACK_CHECK");
static char *old_cold;
module_param(old_cold, charp, 0444);
MODULE_PARM_DESC(old_cold, "name of the original's cold part");
static bool bad_flags;
module_param(bad_flags, bool, 0444);
MODULE_PARM_DESC(bad_flags, "register an invalid description");
static bool twice;
module_param(twice, bool, 0444);
MODULE_PARM_DESC(twice, "register the same description twice");

static DECLARE_WAIT_QUEUE_HEAD(kpatch_coldsleep_wq);

/*
 * __cold makes GCC treat the path that calls it as never taken and move it to the cold
 * part too; the napping task's return address is then in kpatch_coldsleep_show.cold.
 * msleep_interruptible: a nudge (fake signal) ends the nap early, as it would a read.
 */
static noinline __cold void kpatch_coldsleep_nap(int ms)
{
	msleep_interruptible(ms);
}

/*
 * The unlikely branch calls printk, which is __cold, so GCC moves the whole branch,
 * sleep included, to kpatch_coldsleep_show.cold (checked by the scenario through the
 * sleeper's /proc/PID/stack). noinline keeps it one function with one cold part.
 */
static noinline int kpatch_coldsleep_show(struct seq_file *m, void *v)
{
	if (unlikely(READ_ONCE(sleep))) {
		pr_warn("kpatch_coldsleep: %s/%d sleeps in the cold part\n", current->comm,
			task_pid_nr(current));
		if (wait_event_interruptible(kpatch_coldsleep_wq, !READ_ONCE(sleep)))
			pr_warn("kpatch_coldsleep: %s/%d woken by a signal\n", current->comm,
				task_pid_nr(current));
	}
	if (unlikely(READ_ONCE(nap) > 0))
		kpatch_coldsleep_nap(READ_ONCE(nap));
	seq_printf(m, "kpatch_coldsleep %s\n", init_utsname()->release);
	return 0;
}

/* GCC's name for the split-off part; resolved by the assembler within this object. */
extern char kpatch_coldsleep_show_cold[] asm("kpatch_coldsleep_show.cold");

static struct kpatch_func_desc kpatch_coldsleep_funcs[] = {
	{
		.old_name = "version_proc_show",
		.new_func = kpatch_coldsleep_show,
		.new_cold = kpatch_coldsleep_show_cold,
	},
};

static struct kpatch_patch_desc kpatch_coldsleep_patch = {
	.name = KBUILD_MODNAME,
	.mod = THIS_MODULE,
	.funcs = kpatch_coldsleep_funcs,
	.nr_funcs = ARRAY_SIZE(kpatch_coldsleep_funcs),
};

static int __init kpatch_coldsleep_init(void)
{
	int ret;

	if (nocheck)
		kpatch_coldsleep_funcs[0].flags |= KPATCH_FUNC_NO_STACK_CHECK;
	if (bad_flags)
		kpatch_coldsleep_funcs[0].flags |= 0x80;
	kpatch_coldsleep_funcs[0].old_cold_name = old_cold;
	ret = kpatch_register_patch(&kpatch_coldsleep_patch);
	if (ret || !twice)
		return ret;
	/* The core must refuse this and keep the first registration (last_error says why). */
	ret = kpatch_register_patch(&kpatch_coldsleep_patch);
	pr_info("kpatch_coldsleep: registering twice returned %d\n", ret);
	return 0;
}

static void __exit kpatch_coldsleep_exit(void)
{
	kpatch_unregister_patch(&kpatch_coldsleep_patch);
}

module_init(kpatch_coldsleep_init);
module_exit(kpatch_coldsleep_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kpatch test: a replacement whose cold part sleeps");
