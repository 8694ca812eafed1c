// SPDX-License-Identifier: GPL-2.0-only
/*
 * kpatch-badname.c - example patch module that names a function the kernel does not
 * have; loading it must fail with the name in the error and change nothing.
 */
#include <linux/module.h>
#include "kpatch-example.h"

static int kpatch_badname_replacement(void)
{
	return 0;
}

static const struct kpatch_func_desc kpatch_badname_funcs[] = {
	{ .old_name = "cmdline_proc_show", .new_func = kpatch_badname_replacement },
	{ .old_name = "kpatch_no_such_function", .new_func = kpatch_badname_replacement },
};

KPATCH_EXAMPLE_PATCH(kpatch_badname_funcs, "kpatch example: a patch of a function that does not exist");
