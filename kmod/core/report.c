// SPDX-License-Identifier: GPL-2.0-only
/*
 * report.c - the core's lock, error reporting and statistics: last_error (global and
 * per patch) and the timings shown in /sys/kernel/kpatch. A leaf: it calls no other
 * file of the core, so every file may call it (report.h).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kobject.h>
#include <linux/string.h>
#include "core.h"

DEFINE_MUTEX(kpatch_mutex);
struct kpatch_stats kpatch_stats;

static const char *kpatch_errname(int err, char *buf, size_t len)
{
	static const struct { int err; const char *name; } names[] = {
		{ EBUSY, "EBUSY" }, { ENOENT, "ENOENT" }, { EINVAL, "EINVAL" },
		{ ENOMEM, "ENOMEM" }, { EEXIST, "EEXIST" }, { ENODEV, "ENODEV" },
		{ E2BIG, "E2BIG" }, { EPERM, "EPERM" }, { ENOEXEC, "ENOEXEC" },
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(names); i++)
		if (names[i].err == -err)
			return names[i].name;
	snprintf(buf, len, "E%d", -err);
	return buf;
}

static void __kpatch_vset_error(char *patch_buf, const char *name, const char *op, int err,
				const char *fmt, va_list args)
{
	char msg[KPATCH_ERR_LEN], ebuf[16];
	char *line = kpatch_stats.last_error;

	lockdep_assert_held(&kpatch_mutex);
	vsnprintf(msg, sizeof(msg), fmt, args);
	snprintf(line, KPATCH_ERR_LEN, "%s %s %s: %s", name, op,
		 kpatch_errname(err, ebuf, sizeof(ebuf)), msg);
	if (patch_buf)
		strscpy(patch_buf, line, KPATCH_ERR_LEN);
	pr_err("%s\n", line);
}

/*
 * Records a failed operation as "<patch> <op> <errno-name>: <message>" in the patch's
 * and the global last_error, and logs it. Both files are readable by every user:
 * messages hold no kernel address. Caller holds kpatch_mutex.
 */
void __kpatch_set_error(struct kpatch_patch *patch, const char *op, int err,
			const char *fmt, ...)
{
	va_list args;

	lockdep_assert_held(&kpatch_mutex);
	va_start(args, fmt);
	__kpatch_vset_error(patch->last_error, patch->name, op, err, fmt, args);
	va_end(args);
}

/* The same for a patch that has no kpatch_patch (yet): only the global last_error. */
void __kpatch_set_error_name(const char *name, const char *op, int err,
			     const char *fmt, ...)
{
	va_list args;

	lockdep_assert_held(&kpatch_mutex);
	va_start(args, fmt);
	__kpatch_vset_error(NULL, name, op, err, fmt, args);
	va_end(args);
}

/*
 * Called when an operation (registration, enable, disable) begins: both last_error
 * files then describe only that operation, empty while it runs and when it succeeds
 * (doc/interfaces.md). @patch may be NULL (registration). Caller holds kpatch_mutex.
 */
void __kpatch_clear_error(struct kpatch_patch *patch)
{
	lockdep_assert_held(&kpatch_mutex);
	kpatch_stats.last_error[0] = '\0';
	if (patch)
		patch->last_error[0] = '\0';
}

/* ---- /sys/kernel/kpatch/<stat> ---- */

#define KPATCH_STAT_ATTR(field, fmt)						\
static ssize_t field##_show(struct kobject *kobj, struct kobj_attribute *attr,	\
			    char *buf)						\
{										\
	ssize_t len;								\
										\
	mutex_lock(&kpatch_mutex);						\
	len = sysfs_emit(buf, fmt "\n", kpatch_stats.field);			\
	mutex_unlock(&kpatch_mutex);						\
	return len;								\
}										\
static struct kobj_attribute field##_attr = __ATTR_RO(field)

KPATCH_STAT_ATTR(stop_machine_ns, "%llu");
KPATCH_STAT_ATTR(check_ns, "%llu");
KPATCH_STAT_ATTR(tasks_checked, "%u");
KPATCH_STAT_ATTR(tasks_skipped, "%u");
KPATCH_STAT_ATTR(last_error, "%s");
KPATCH_STAT_ATTR(verify_ns, "%llu");
KPATCH_STAT_ATTR(module_apply_ns, "%llu");
KPATCH_STAT_ATTR(register_ns, "%llu");
KPATCH_STAT_ATTR(resolve_ns, "%llu");
KPATCH_STAT_ATTR(sysfs_ns, "%llu");
KPATCH_STAT_ATTR(enable_ns, "%llu");

static struct attribute *kpatch_stats_attrs[] = {
	&stop_machine_ns_attr.attr, &check_ns_attr.attr, &tasks_checked_attr.attr,
	&tasks_skipped_attr.attr, &last_error_attr.attr, &verify_ns_attr.attr,
	&module_apply_ns_attr.attr, &register_ns_attr.attr, &resolve_ns_attr.attr,
	&sysfs_ns_attr.attr, &enable_ns_attr.attr, NULL,
};
const struct attribute_group kpatch_stats_group = { .attrs = kpatch_stats_attrs };
