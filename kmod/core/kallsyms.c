// SPDX-License-Identifier: GPL-2.0-only
/*
 * kallsyms.c - finds what the core needs but 6.1 does not export, and resolves a
 * patch's old functions by name and position among same-named symbols (then has
 * verify.c check their code).
 *
 * kallsyms_lookup_name() is not exported since 5.7; a kprobe registered on it by name
 * reports its address (the kprobe code may use kallsyms internally), and from there
 * everything else is a plain lookup. There is no IBT on the target kernel, so the
 * address a kprobe reports is the function's entry.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kallsyms.h>
#include <linux/kprobes.h>
#include <linux/module.h>
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
		{ "klp_apply_section_relocs", &kpatch_syms.klp_apply_section_relocs },
		{ "find_module", &kpatch_syms.find_module },
		{ "module_mutex", &kpatch_syms.module_mutex },
		{ "text_poke", &kpatch_syms.text_poke },
		{ "text_mutex", &kpatch_syms.text_mutex },
		{ "wake_up_state", &kpatch_syms.wake_up_state },
		{ "__module_address", &kpatch_syms.__module_address },
		{ "apply_relocate_add", &kpatch_syms.apply_relocate_add },
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

/* sort() order of addresses (also relocs.c's). */
int kpatch_cmp_addr(const void *a, const void *b)
{
	unsigned long x = *(const unsigned long *)a, y = *(const unsigned long *)b;

	return x < y ? -1 : x > y;
}

/*
 * Collects the addresses of @name among @mod's symbols in its symbol table's order,
 * which is how the kernel's .klp.sym resolution counts positions in a module (from
 * MODULE_STATE_COMING on: the full table while its init runs, the core symbols
 * afterwards; same order). The caller keeps @mod from going away.
 */
static void kpatch_module_matches(struct module *mod, const char *name,
				  struct kpatch_match *m)
{
	struct mod_kallsyms *ks;
	unsigned int i;

	preempt_disable();
	ks = rcu_dereference_sched(mod->kallsyms);
	for (i = 0; i < ks->num_symtab; i++) {
		const Elf_Sym *sym = &ks->symtab[i];

		if (sym->st_shndx != SHN_UNDEF && !strcmp(ks->strtab + sym->st_name, name))
			kpatch_match_cb(m, sym->st_value);
	}
	preempt_enable();
}

/*
 * Finds the symbol @name at position @sympos in @mod, or vmlinux when NULL
 * (1-based; vmlinux in address order, a module in its symbol table's order, as the
 * kernel's livepatch and the module loader's .klp.sym count; 0 only when the name is
 * unique) and its kallsyms size. @what says what @name is in messages ("function",
 * "cold part"). Errors go to last_error with the name quoted. Sleeps.
 */
static int __kpatch_lookup(struct kpatch_patch *patch, struct module *mod,
			   const char *what, const char *name,
			   unsigned long sympos, unsigned long *addr, unsigned long *size)
{
	struct kpatch_match *m;
	unsigned long off;
	int ret = 0;

	lockdep_assert_held(&kpatch_mutex);
	m = kzalloc(sizeof(*m), GFP_KERNEL);
	if (!m) {
		__kpatch_set_error(patch, "load", -ENOMEM, "no memory to look up %s '%s'",
				   what, name);
		return -ENOMEM;
	}
	if (mod)
		kpatch_module_matches(mod, name, m);
	else
		kpatch_syms.kallsyms_on_each_match_symbol(kpatch_match_cb, name, m);
	if (m->count == 0) {
		__kpatch_set_error(patch, "load", -ENOENT, "%s '%s' not found in %s",
				   what, name, mod ? module_name(mod) : "vmlinux");
		ret = -ENOENT;
		goto out;
	}
	if (m->count > KPATCH_MAX_SAME_NAME) {
		__kpatch_set_error(patch, "load", -E2BIG,
				   "%s '%s' has %u same-named symbols, more than %d supported",
				   what, name, m->count, KPATCH_MAX_SAME_NAME);
		ret = -E2BIG;
		goto out;
	}
	if (sympos == 0 && m->count > 1) {
		__kpatch_set_error(patch, "load", -EINVAL,
				   "%s '%s' is ambiguous: %u symbols share the name; give its position (1..%u)",
				   what, name, m->count, m->count);
		ret = -EINVAL;
		goto out;
	}
	if (sympos > m->count) {
		__kpatch_set_error(patch, "load", -ENOENT,
				   "%s '%s' position %lu not found: only %u symbols share the name",
				   what, name, sympos, m->count);
		ret = -ENOENT;
		goto out;
	}
	/* vmlinux positions count in address order, a module's in its symbol table's */
	if (!mod)
		sort(m->addrs, m->count, sizeof(m->addrs[0]), kpatch_cmp_addr, NULL);
	*addr = m->addrs[sympos ? sympos - 1 : 0];
	/* No address in the message: last_error is readable by every user (KASLR). */
	if (!kpatch_syms.kallsyms_lookup_size_offset(*addr, size, &off) || off != 0) {
		__kpatch_set_error(patch, "load", -EINVAL, "%s '%s' has no size in kallsyms",
				   what, name);
		ret = -EINVAL;
	}
out:
	kfree(m);
	return ret;
}

/* Size of the patch module's function at @addr, which must start there. */
static int __kpatch_new_size(struct kpatch_func *func, const char *what, unsigned long addr,
			     unsigned long *size)
{
	unsigned long off;

	lockdep_assert_held(&kpatch_mutex);
	if (!within_module(addr, func->patch->mod) ||
	    !kpatch_syms.kallsyms_lookup_size_offset(addr, size, &off) || off != 0) {
		__kpatch_set_error(func->patch, "load", -EINVAL,
				   "%s of '%s' is not the start of a function of module '%s'",
				   what, func->old_name, module_name(func->patch->mod));
		return -EINVAL;
	}
	return 0;
}

/*
 * Resolves @func: the old function (which must be an ftrace location) and its cold
 * part, and the sizes of the new function and its cold part, for the stack check.
 * In vmlinux, or in obj->mod for a module's. Errors go to the patch's last_error.
 * Caller holds kpatch_mutex; sleeps.
 */
static int __kpatch_resolve_func(struct kpatch_func *func)
{
	struct kpatch_patch *patch = func->patch;
	unsigned long addr, size;
	int ret;

	lockdep_assert_held(&kpatch_mutex);
	/* a module's functions are resolved while it is loaded (module.c) */
	if (WARN_ON(func->obj->is_module && !func->obj->mod))
		return -EINVAL;
	ret = __kpatch_lookup(patch, func->obj->mod, "function", func->old_name, func->sympos,
			      &addr, &size);
	if (ret)
		return ret;
	/* With fentry and no IBT the ftrace site is the first instruction. */
	if (kpatch_syms.ftrace_location(addr) != addr) {
		__kpatch_set_error(patch, "load", -EINVAL,
				   "function '%s' is not traceable (no ftrace location at its entry)",
				   func->old_name);
		return -EINVAL;
	}
	func->old_addr = addr;
	func->old_size = size;
	if (func->old_cold_name) {
		ret = __kpatch_lookup(patch, func->obj->mod, "cold part", func->old_cold_name,
				      func->old_cold_sympos, &func->old_cold_addr,
				      &func->old_cold_size);
		if (ret)
			return ret;
	}
	ret = __kpatch_new_size(func, "replacement", func->new_addr, &func->new_size);
	if (ret)
		return ret;
	if (func->new_cold_addr)
		ret = __kpatch_new_size(func, "cold part of the replacement", func->new_cold_addr,
					&func->new_cold_size);
	return ret;
}

/*
 * Resolves the old functions of @obj (vmlinux, or the module in obj->mod), refuses a
 * patch that names one function twice, and checks that the running code is what the
 * patch was built against. Caller holds kpatch_mutex.
 */
int __kpatch_resolve_object(struct kpatch_object *obj)
{
	struct kpatch_patch *patch = obj->patch;
	unsigned int i, j;
	int ret;

	lockdep_assert_held(&kpatch_mutex);
	for (i = 0; i < patch->nr_funcs; i++) {
		if (patch->funcs[i].obj != obj)
			continue;
		ret = __kpatch_resolve_func(&patch->funcs[i]);
		if (ret)
			return ret;
		for (j = 0; j < i; j++) {
			if (patch->funcs[j].obj == obj &&
			    patch->funcs[j].old_addr == patch->funcs[i].old_addr) {
				__kpatch_set_error(patch, "load", -EINVAL,
						   "function '%s' is replaced twice",
						   patch->funcs[i].old_name);
				return -EINVAL;
			}
		}
	}
	return __kpatch_verify_object(obj);
}
