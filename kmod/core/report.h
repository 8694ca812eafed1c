/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * report.h - the core's lock, its error reporting and its statistics (report.c).
 *
 * Every file of the core uses these and report.c calls into none of them, so calls
 * between the files run one way: core.c -> transition.c -> patch.c/hooks.c/...,
 * and every file -> report.c.
 */
#ifndef _KPATCH_REPORT_H
#define _KPATCH_REPORT_H

#include <linux/compiler.h>
#include <linux/mutex.h>
#include <linux/sysfs.h>
#include <linux/types.h>

#define KPATCH_ERR_LEN	256

struct kpatch_patch;

/*
 * kpatch_mutex guards every patch, func and ops, the list of patches (core.c) and the
 * error and statistics state below. Sysfs handlers, registration, unregistration and
 * the module notifiers take it; the stop_machine callback runs while its caller holds
 * it. A __ prefix on a function means: the caller holds kpatch_mutex.
 */
extern struct mutex kpatch_mutex;

/* Global state shown in /sys/kernel/kpatch (kpatch_mutex). */
struct kpatch_stats {
	u64 stop_machine_ns;		/* whole stop_machine() call of the last attempt */
	u64 check_ns;			/* of which: the stack check in the callback */
	unsigned int tasks_checked;	/* stacks walked by the last check */
	unsigned int tasks_skipped;	/* stopper threads passed over by rule */
	u64 verify_ns;			/* comparing the running code at the last load */
	u64 module_apply_ns;		/* last module's parts applied on its COMING */
	/*
	 * The last successful registration (kpatch_register_patch) by phase: resolving
	 * and verifying the vmlinux part, its sysfs files, and the enable (ftrace and
	 * the stop_machine switch); register_ns is all of it. What insmod takes beyond
	 * register_ns is the module loader's (relocations, symbol resolution).
	 */
	u64 register_ns;
	u64 resolve_ns;
	u64 sysfs_ns;
	u64 enable_ns;
	char last_error[KPATCH_ERR_LEN];
};
extern struct kpatch_stats kpatch_stats;

/* The files of /sys/kernel/kpatch that show kpatch_stats. */
extern const struct attribute_group kpatch_stats_group;

void __kpatch_set_error(struct kpatch_patch *patch, const char *op, int err,
			const char *fmt, ...) __printf(4, 5);
void __kpatch_set_error_name(const char *name, const char *op, int err,
			     const char *fmt, ...) __printf(4, 5);
void __kpatch_clear_error(struct kpatch_patch *patch);

#endif /* _KPATCH_REPORT_H */
