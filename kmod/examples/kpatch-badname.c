// SPDX-License-Identifier: GPL-2.0-only
/*
 * kpatch-badname.c - example patch module whose second function cannot be resolved;
 * loading it must fail with the name in the error and change nothing, not even the
 * first function (cmdline_proc_show), which resolves fine.
 *
 * By default the second function does not exist; the parameters name another one to
 * test the other refusals: `name=s_show` (ambiguous without a position),
 * `name=s_show sympos=999` (no such position), `name=saved_command_line` (not a
 * traceable function).
 */
#include <linux/moduleparam.h>
#include "kpatch-example.h"

static char *name = "kpatch_no_such_function";
module_param(name, charp, 0444);
MODULE_PARM_DESC(name, "the unresolvable function to name");
static unsigned long sympos;
module_param(sympos, ulong, 0444);
MODULE_PARM_DESC(sympos, "its position among same-named symbols");
static unsigned long flags;
module_param(flags, ulong, 0444);
MODULE_PARM_DESC(flags, "patch flags (KPATCH_PATCH_*): one the core does not know is refused");

/* Never runs: registration fails before anything is switched. */
static int kpatch_badname_replacement(void)
{
	return 0;
}

static struct kpatch_func_desc kpatch_badname_funcs[] = {
	{ .old_name = "cmdline_proc_show", .new_func = kpatch_badname_replacement },
	{ .new_func = kpatch_badname_replacement },	/* filled from the parameters */
};

static struct kpatch_patch_desc kpatch_badname_patch = {
	.name = KBUILD_MODNAME,
	.mod = THIS_MODULE,
	.funcs = kpatch_badname_funcs,
	.nr_funcs = ARRAY_SIZE(kpatch_badname_funcs),
};

static int __init kpatch_badname_init(void)
{
	kpatch_badname_funcs[1].old_name = name;
	kpatch_badname_funcs[1].sympos = sympos;
	kpatch_badname_patch.flags = flags;
	return kpatch_register_patch(&kpatch_badname_patch);
}

static void __exit kpatch_badname_exit(void)
{
	kpatch_unregister_patch(&kpatch_badname_patch);
}

module_init(kpatch_badname_init);
module_exit(kpatch_badname_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kpatch example: a patch of a function that cannot be resolved");
