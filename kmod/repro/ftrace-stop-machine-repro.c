// SPDX-License-Identifier: GPL-2.0-only
/*
 * ftrace-stop-machine-repro.c - a reproducer, not part of kpatch: registers a dynamic
 * IPMODIFY ftrace_ops on cmdline_proc_show, runs an empty stop_machine, unregisters,
 * `cycles` times, with nothing of kpatch involved. Under vm-run with
 * `--append preempt=full` and two shells running `cat /proc/cmdline` in a loop, one
 * cat ends up spinning at cmdline_proc_show+0 and the unregistration hangs in
 * synchronize_rcu_tasks() after about 50 cycles (lock=1 stop=1). See kmod/README.md.
 * Build a copy by hand: cp -r kmod/repro /tmp/r && make -C /lib/modules/$KVER/build M=/tmp/r
 */
#include <linux/delay.h>
#include <linux/ftrace.h>
#include <linux/kprobes.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/stop_machine.h>

static int cycles = 250;
module_param(cycles, int, 0444);
static bool lock = true;	/* take ftrace's recursion lock in the handler, as livepatch does */
module_param(lock, bool, 0444);
static bool stop = true;	/* one empty stop_machine while registered */
module_param(stop, bool, 0444);

static void notrace repro_handler(unsigned long ip, unsigned long parent_ip,
				  struct ftrace_ops *op, struct ftrace_regs *fregs)
{
	int bit;

	if (!lock)
		return;
	bit = ftrace_test_recursion_trylock(ip, parent_ip);
	if (bit >= 0)
		ftrace_test_recursion_unlock(bit);
}

static int repro_nothing(void *data)
{
	return 0;
}

static int __init repro_init(void)
{
	struct kprobe kp = { .symbol_name = "cmdline_proc_show" };
	struct ftrace_ops *ops;
	unsigned long addr;
	int i, ret;

	ret = register_kprobe(&kp);	/* only to learn the address */
	if (ret)
		return ret;
	addr = (unsigned long)kp.addr;
	unregister_kprobe(&kp);
	for (i = 0; i < cycles; i++) {
		ops = kzalloc(sizeof(*ops), GFP_KERNEL);
		if (!ops)
			return -ENOMEM;
		ops->func = repro_handler;
		ops->flags = FTRACE_OPS_FL_DYNAMIC | FTRACE_OPS_FL_IPMODIFY;
		ret = ftrace_set_filter_ip(ops, addr, 0, 0);
		if (!ret)
			ret = register_ftrace_function(ops);
		if (ret) {
			kfree(ops);
			return ret;
		}
		msleep(5);
		if (stop)
			stop_machine(repro_nothing, NULL, NULL);
		unregister_ftrace_function(ops);
		ftrace_set_filter_ip(ops, addr, 1, 0);
		kfree(ops);
		if (i % 20 == 0)
			pr_info("ftrace-stop-machine-repro: cycle %d\n", i);
	}
	return -EAGAIN;	/* nothing to keep loaded */
}

module_init(repro_init);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("reproducer: ftrace ops cycles with stop_machine under preempt=full");
