// SPDX-License-Identifier: GPL-2.0-only
/*
 * kpatch-shadow2.c - the newer version of kpatch-shadow.c, for the upgrade flow of
 * kpatch(7): it takes over the per-task read counts (same shadow ID and layout),
 * claiming the ID in its pre-patch hook so that unloading the older patch, whose
 * post-unpatch hook frees "all" of them, hands the counts over instead of freeing
 * them. /proc/cmdline: "kpatch_shadow2: read <n> times by pid <pid>".
 */
#include <linux/module.h>
#include <linux/sched.h>
#include <linux/seq_file.h>
#include "kpatch.h"
#include "kpatch-shadow.h"

/* The ID and layout of kpatch-shadow.c: that is what taking the data over means. */
#define KPATCH_SHADOW_READS	KPATCH_SHADOW_ID('c', 'm', 'd', 1)

struct kpatch_shadow_reads {
	pid_t pid;
	unsigned long count;
};

static int kpatch_shadow2_ctor(void *obj, void *shadow_data, void *ctor_data)
{
	struct kpatch_shadow_reads *reads = shadow_data;

	reads->pid = *(pid_t *)ctor_data;
	return 0;
}

static int kpatch_shadow2_cmdline_proc_show(struct seq_file *m, void *v)
{
	pid_t pid = task_pid_nr(current);
	struct kpatch_shadow_reads *reads;

	reads = kpatch_shadow_get_or_alloc(current, KPATCH_SHADOW_READS, sizeof(*reads),
					   GFP_KERNEL, kpatch_shadow2_ctor, &pid);
	if (!reads)
		return -ENOMEM;
	if (reads->pid != pid) {	/* a dead task's task_struct, reused */
		reads->pid = pid;
		reads->count = 0;
	}
	reads->count++;
	seq_printf(m, "kpatch_shadow2: read %lu times by pid %d\n", reads->count, pid);
	return 0;
}

/* Claim the counts before the older patch can go and free them. */
static int kpatch_shadow2_pre_patch(struct kpatch_patch_desc *patch)
{
	return kpatch_shadow_claim(KPATCH_SHADOW_READS);
}

static void kpatch_shadow2_post_unpatch(struct kpatch_patch_desc *patch)
{
	kpatch_shadow_free_all(KPATCH_SHADOW_READS, NULL);
	pr_info("%s: post-unpatch hook freed the read counts\n", patch->name);
}

static const struct kpatch_func_desc kpatch_shadow2_funcs[] = {
	{ .old_name = "cmdline_proc_show", .new_func = kpatch_shadow2_cmdline_proc_show },
};

static struct kpatch_patch_desc kpatch_shadow2_patch = {
	.name = KBUILD_MODNAME,
	.mod = THIS_MODULE,
	.funcs = kpatch_shadow2_funcs,
	.nr_funcs = ARRAY_SIZE(kpatch_shadow2_funcs),
	.pre_patch = kpatch_shadow2_pre_patch,
	.post_unpatch = kpatch_shadow2_post_unpatch,
};

static int __init kpatch_shadow2_init(void)
{
	return kpatch_register_patch(&kpatch_shadow2_patch);
}

static void __exit kpatch_shadow2_exit(void)
{
	kpatch_unregister_patch(&kpatch_shadow2_patch);
}

module_init(kpatch_shadow2_init);
module_exit(kpatch_shadow2_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kpatch example: takes over kpatch-shadow's read counts (shadow handover)");
