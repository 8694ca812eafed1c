// SPDX-License-Identifier: GPL-2.0-only
/*
 * kpatch-hookfail.c - example patch module whose pre-patch hook refuses: loading it
 * must fail with the hook's error, leave cmdline_proc_show (which it would replace)
 * untouched and run no other hook. With `err=0` the hook agrees and the patch loads
 * like kpatch-cmdline, which shows that the refusal comes from the hook alone.
 */
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/seq_file.h>
#include "kpatch.h"

static int err = EPERM;
module_param(err, int, 0444);
MODULE_PARM_DESC(err, "the errno the pre-patch hook fails with (0: it succeeds)");

static int kpatch_hookfail_cmdline_proc_show(struct seq_file *m, void *v)
{
	seq_puts(m, "kpatch_hookfail: this /proc/cmdline comes from a live patch\n");
	return 0;
}

/* Stands for a precondition check, e.g. "the state to convert is not in a known form". */
static int kpatch_hookfail_pre_patch(struct kpatch_patch_desc *patch)
{
	pr_info("%s: pre-patch hook returns %d\n", patch->name, -err);
	return -err;
}

static void kpatch_hookfail_post_patch(struct kpatch_patch_desc *patch)
{
	pr_info("%s: post-patch hook\n", patch->name);
}

static void kpatch_hookfail_pre_unpatch(struct kpatch_patch_desc *patch)
{
	pr_info("%s: pre-unpatch hook\n", patch->name);
}

static void kpatch_hookfail_post_unpatch(struct kpatch_patch_desc *patch)
{
	pr_info("%s: post-unpatch hook\n", patch->name);
}

static const struct kpatch_func_desc kpatch_hookfail_funcs[] = {
	{ .old_name = "cmdline_proc_show", .new_func = kpatch_hookfail_cmdline_proc_show },
};

static struct kpatch_patch_desc kpatch_hookfail_patch = {
	.name = KBUILD_MODNAME,
	.mod = THIS_MODULE,
	.funcs = kpatch_hookfail_funcs,
	.nr_funcs = ARRAY_SIZE(kpatch_hookfail_funcs),
	.pre_patch = kpatch_hookfail_pre_patch,
	.post_patch = kpatch_hookfail_post_patch,
	.pre_unpatch = kpatch_hookfail_pre_unpatch,
	.post_unpatch = kpatch_hookfail_post_unpatch,
};

static int __init kpatch_hookfail_init(void)
{
	return kpatch_register_patch(&kpatch_hookfail_patch);
}

static void __exit kpatch_hookfail_exit(void)
{
	kpatch_unregister_patch(&kpatch_hookfail_patch);
}

module_init(kpatch_hookfail_init);
module_exit(kpatch_hookfail_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kpatch example: a patch whose pre-patch hook refuses the load");
