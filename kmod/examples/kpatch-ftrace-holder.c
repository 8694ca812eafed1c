// SPDX-License-Identifier: GPL-2.0-only
/*
 * kpatch-ftrace-holder.c - a test module (not a patch): holds an IPMODIFY ftrace
 * handler on one function (`func=`, default cmdline_proc_show), as a livepatch or
 * another patching tool would, so that enabling a kpatch patch of that function fails
 * after its pre-patch hook has run. The handler changes nothing.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/ftrace.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/string.h>

static char *func = "cmdline_proc_show";
module_param(func, charp, 0444);
MODULE_PARM_DESC(func, "the function to hold");

static void notrace holder_handler(unsigned long ip, unsigned long parent_ip,
				   struct ftrace_ops *ops, struct ftrace_regs *fregs)
{
}

static struct ftrace_ops holder_ops = {
	.func = holder_handler,
	.flags = FTRACE_OPS_FL_IPMODIFY |
#ifndef CONFIG_HAVE_DYNAMIC_FTRACE_WITH_ARGS
		 FTRACE_OPS_FL_SAVE_REGS |
#endif
		 0,
};

static int __init holder_init(void)
{
	int ret;

	ret = ftrace_set_filter(&holder_ops, func, strlen(func), 1);
	if (ret) {
		pr_err("cannot filter on '%s': %d\n", func, ret);
		return ret;
	}
	ret = register_ftrace_function(&holder_ops);
	if (ret) {
		pr_err("cannot hold '%s': %d\n", func, ret);
		ftrace_free_filter(&holder_ops);	/* undoes ftrace_set_filter() */
		return ret;
	}
	pr_info("holding '%s'\n", func);
	return 0;
}

static void __exit holder_exit(void)
{
	unregister_ftrace_function(&holder_ops);
	ftrace_free_filter(&holder_ops);
}

module_init(holder_init);
module_exit(holder_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kpatch test: hold an IPMODIFY ftrace handler on one function");
