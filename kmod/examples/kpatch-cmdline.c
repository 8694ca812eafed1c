// SPDX-License-Identifier: GPL-2.0-only
/*
 * kpatch-cmdline.c - example patch module: /proc/cmdline shows a marker line instead
 * of the command line, through a replacement of cmdline_proc_show(). The saved
 * command line is not exported, so the replacement does not print it.
 * kpatch-cmdline2.c builds the same source as a second patch of the same function.
 */
#include <linux/module.h>
#include <linux/seq_file.h>
#include "kpatch-example.h"

#ifndef KPATCH_CMDLINE_MARKER
#define KPATCH_CMDLINE_MARKER "kpatch_cmdline: this /proc/cmdline comes from a live patch\n"
#endif

static int kpatch_cmdline_proc_show(struct seq_file *m, void *v)
{
	seq_puts(m, KPATCH_CMDLINE_MARKER);
	return 0;
}

static const struct kpatch_func_desc kpatch_cmdline_funcs[] = {
	{ .old_name = "cmdline_proc_show", .new_func = kpatch_cmdline_proc_show },
};

KPATCH_EXAMPLE_PATCH(kpatch_cmdline_funcs, "kpatch example: replace cmdline_proc_show");
