// SPDX-License-Identifier: GPL-2.0-only
/*
 * kallsyms.c - finds what the core needs but 6.1 does not export, and resolves a
 * patch's old functions by name and position among same-named symbols.
 *
 * kallsyms_lookup_name() is not exported since 5.7; a kprobe registered on it by name
 * reports its address (the kprobe code may use kallsyms internally), and from there
 * everything else is a plain lookup. There is no IBT on the target kernel, so the
 * address a kprobe reports is the function's entry.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kallsyms.h>
#include <linux/kprobes.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include "core.h"

struct kpatch_syms kpatch_syms;

/* Candidate addresses of one name; more than this many same-named symbols is refused. */
#define KPATCH_MAX_SAME_NAME	64

typedef unsigned long (*kallsyms_lookup_name_t)(const char *name);

static kallsyms_lookup_name_t kpatch_find_kallsyms_lookup_name(void)
{
	struct kprobe kp = { .symbol_name = "kallsyms_lookup_name" };
	unsigned long addr;
	int ret;

	ret = register_kprobe(&kp);
	if (ret < 0) {
		pr_err("cannot locate 'kallsyms_lookup_name' through a kprobe: %d\n", ret);
		return NULL;
	}
	addr = (unsigned long)kp.addr;
	unregister_kprobe(&kp);
	return (kallsyms_lookup_name_t)addr;
}

int kpatch_syms_init(void)
{
	kallsyms_lookup_name_t lookup = kpatch_find_kallsyms_lookup_name();
	static const struct {
		const char *name;
		void *slot;
	} wanted[] = {
		{ "stack_trace_save_tsk_reliable", &kpatch_syms.stack_trace_save_tsk_reliable },
		{ "idle_task", &kpatch_syms.idle_task },
		{ "stop_sched_class", &kpatch_syms.stop_sched_class },
		{ "ftrace_location", &kpatch_syms.ftrace_location },
		{ "kallsyms_lookup_size_offset", &kpatch_syms.kallsyms_lookup_size_offset },
		{ "kallsyms_on_each_match_symbol", &kpatch_syms.kallsyms_on_each_match_symbol },
		{ "wake_up_state", &kpatch_syms.wake_up_state },
		{ "__module_address", &kpatch_syms.__module_address },
	};
	unsigned int i;

	if (!lookup)
		return -ENOENT;
	for (i = 0; i < ARRAY_SIZE(wanted); i++) {
		unsigned long addr = lookup(wanted[i].name);

		if (!addr) {
			pr_err("kernel symbol '%s' not found; this kernel is not supported\n",
			       wanted[i].name);
			return -ENOENT;
		}
		*(unsigned long *)wanted[i].slot = addr;
	}
	return 0;
}

struct kpatch_match {
	unsigned long addrs[KPATCH_MAX_SAME_NAME];
	unsigned int count;	/* may exceed the array: then the name is refused */
};

static int kpatch_match_cb(void *data, unsigned long addr)
{
	struct kpatch_match *m = data;

	if (m->count < KPATCH_MAX_SAME_NAME)
		m->addrs[m->count] = addr;
	m->count++;
	return 0;
}

static int kpatch_cmp_addr(const void *a, const void *b)
{
	unsigned long x = *(const unsigned long *)a, y = *(const unsigned long *)b;

	return x < y ? -1 : x > y;
}

/*
 * Finds the vmlinux symbol @func->old_name at position @func->sympos (1-based, in
 * address order, as the kernel's livepatch and the module loader's .klp.sym count;
 * 0 only when the name is unique), checks it is an ftrace location and records the
 * sizes of the old and new function for the stack check. Errors go to the patch's
 * last_error with the name quoted. Sleeps (kallsyms walks call cond_resched()).
 */
int kpatch_resolve_func(struct kpatch_func *func)
{
	struct kpatch_patch *patch = func->patch;
	struct kpatch_match *m;
	unsigned long addr, size, off;
	int ret = 0;

	m = kzalloc(sizeof(*m), GFP_KERNEL);
	if (!m)
		return -ENOMEM;
	kpatch_syms.kallsyms_on_each_match_symbol(kpatch_match_cb, func->old_name, m);
	if (m->count == 0) {
		kpatch_set_error(patch, "load", -ENOENT,
				 "function '%s' not found in vmlinux", func->old_name);
		ret = -ENOENT;
		goto out;
	}
	if (m->count > KPATCH_MAX_SAME_NAME) {
		kpatch_set_error(patch, "load", -E2BIG,
				 "function '%s' has %u same-named symbols, more than %d supported",
				 func->old_name, m->count, KPATCH_MAX_SAME_NAME);
		ret = -E2BIG;
		goto out;
	}
	if (func->sympos == 0 && m->count > 1) {
		kpatch_set_error(patch, "load", -EINVAL,
				 "function '%s' is ambiguous: %u symbols share the name; give its position (1..%u)",
				 func->old_name, m->count, m->count);
		ret = -EINVAL;
		goto out;
	}
	if (func->sympos > m->count) {
		kpatch_set_error(patch, "load", -ENOENT,
				 "function '%s' position %lu not found: only %u symbols share the name",
				 func->old_name, func->sympos, m->count);
		ret = -ENOENT;
		goto out;
	}
	sort(m->addrs, m->count, sizeof(m->addrs[0]), kpatch_cmp_addr, NULL);
	addr = m->addrs[func->sympos ? func->sympos - 1 : 0];

	if (!kpatch_syms.kallsyms_lookup_size_offset(addr, &size, &off) || off != 0) {
		kpatch_set_error(patch, "load", -EINVAL,
				 "symbol '%s' at %px has no size in kallsyms", func->old_name,
				 (void *)addr);
		ret = -EINVAL;
		goto out;
	}
	/* With fentry and no IBT the ftrace site is the first instruction. */
	if (kpatch_syms.ftrace_location(addr) != addr) {
		kpatch_set_error(patch, "load", -EINVAL,
				 "function '%s' is not traceable (no ftrace location at its entry)",
				 func->old_name);
		ret = -EINVAL;
		goto out;
	}
	func->old_addr = addr;
	func->old_size = size;

	if (!kpatch_syms.kallsyms_lookup_size_offset(func->new_addr, &size, &off) || off != 0) {
		kpatch_set_error(patch, "load", -EINVAL,
				 "replacement of '%s' at %px is not the start of a known function",
				 func->old_name, (void *)func->new_addr);
		ret = -EINVAL;
		goto out;
	}
	func->new_size = size;
out:
	kfree(m);
	return ret;
}
