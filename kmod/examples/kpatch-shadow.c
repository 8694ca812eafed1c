// SPDX-License-Identifier: GPL-2.0-only
/*
 * kpatch-shadow.c - example patch module (the worked example of kpatch(7)): a new
 * per-task field without changing struct task_struct. /proc/cmdline says how often the
 * reading task has read it: "kpatch_shadow: read <n> times by pid <pid>". The count
 * lives in a shadow variable attached to the task; the post-unpatch hook frees every
 * one of them, and the hooks log when they run.
 *
 * Tasks die without telling this patch, so their variables stay until the patch is
 * disabled; a real patch would also replace the function that frees its object and
 * call kpatch_shadow_free() there. The pid kept in the variable notices a recycled
 * task_struct address.
 */
#include <linux/module.h>
#include <linux/sched.h>
#include <linux/seq_file.h>
#include "kpatch.h"
#include "kpatch-shadow.h"

/* Owned by this patch; a later patch that takes the counts over uses the same ID. */
#define KPATCH_SHADOW_READS	KPATCH_SHADOW_ID('c', 'm', 'd', 1)

/* The new "field" of struct task_struct. */
struct kpatch_shadow_reads {
	pid_t pid;
	unsigned long count;
};

static int kpatch_shadow_reads_ctor(void *obj, void *shadow_data, void *ctor_data)
{
	struct kpatch_shadow_reads *reads = shadow_data;

	reads->pid = *(pid_t *)ctor_data;
	return 0;
}

static int kpatch_shadow_cmdline_proc_show(struct seq_file *m, void *v)
{
	pid_t pid = task_pid_nr(current);
	struct kpatch_shadow_reads *reads;

	reads = kpatch_shadow_get_or_alloc(current, KPATCH_SHADOW_READS, sizeof(*reads),
					   GFP_KERNEL, kpatch_shadow_reads_ctor, &pid);
	if (!reads)
		return -ENOMEM;
	/* Only the task itself touches its variable, so no lock is needed. */
	if (reads->pid != pid) {	/* a dead task's task_struct, reused */
		reads->pid = pid;
		reads->count = 0;
	}
	reads->count++;
	seq_printf(m, "kpatch_shadow: read %lu times by pid %d\n", reads->count, pid);
	return 0;
}

static int kpatch_shadow_pre_patch(struct kpatch_patch_desc *patch)
{
	pr_info("%s: pre-patch hook\n", patch->name);
	return 0;
}

static void kpatch_shadow_post_patch(struct kpatch_patch_desc *patch)
{
	pr_info("%s: post-patch hook\n", patch->name);
}

static void kpatch_shadow_pre_unpatch(struct kpatch_patch_desc *patch)
{
	pr_info("%s: pre-unpatch hook\n", patch->name);
}

/* The new code no longer runs, so nothing allocates again: free every count. */
static void kpatch_shadow_post_unpatch(struct kpatch_patch_desc *patch)
{
	kpatch_shadow_free_all(KPATCH_SHADOW_READS, NULL);
	pr_info("%s: post-unpatch hook freed the read counts\n", patch->name);
}

static const struct kpatch_func_desc kpatch_shadow_funcs[] = {
	{ .old_name = "cmdline_proc_show", .new_func = kpatch_shadow_cmdline_proc_show },
};

static struct kpatch_patch_desc kpatch_shadow_patch = {
	.name = KBUILD_MODNAME,
	.mod = THIS_MODULE,
	.funcs = kpatch_shadow_funcs,
	.nr_funcs = ARRAY_SIZE(kpatch_shadow_funcs),
	.pre_patch = kpatch_shadow_pre_patch,
	.post_patch = kpatch_shadow_post_patch,
	.pre_unpatch = kpatch_shadow_pre_unpatch,
	.post_unpatch = kpatch_shadow_post_unpatch,
};

static int __init kpatch_shadow_init(void)
{
	return kpatch_register_patch(&kpatch_shadow_patch);
}

static void __exit kpatch_shadow_exit(void)
{
	kpatch_unregister_patch(&kpatch_shadow_patch);
}

module_init(kpatch_shadow_init);
module_exit(kpatch_shadow_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kpatch example: a per-task read count of /proc/cmdline in a shadow variable");
