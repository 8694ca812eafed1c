// SPDX-License-Identifier: GPL-2.0-only
/*
 * relocs.c - a patch module's references to vmlinux symbols that are not exported,
 * written by the core when the patch registers.
 *
 * kpatch-klp-convert puts them into .klp.rela.kpatch-vmlinux.<section> sections
 * (SHF_RELA_LIVEPATCH) against .klp.sym.vmlinux.NAME,POS symbols. The module loader
 * skips such sections (it writes only .klp.rela.vmlinux.* at load) and keeps them, with
 * the whole symbol table, in mod->klp_info. Had they been .klp.rela.vmlinux.*, 6.1's
 * loader would resolve every relocation with a walk over all of kallsyms, expanding
 * each name (klp_find_object_symbol with kallsyms_on_each_symbol): about 30 ms per
 * relocation under TCG, 30 s for a patch of 1,000 functions. Here each symbol is
 * resolved once, by the binary search of kallsyms_on_each_match_symbol, and the
 * sections are written with the architecture's apply_relocate_add.
 *
 * A patch module built this way sets KPATCH_PATCH_CORE_RELOCS, which an older core
 * refuses (unknown flag) instead of running code whose calls lead to address 0.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bitmap.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/string.h>
#include "core.h"

#define KPATCH_VMLINUX_RELA ".klp.rela.kpatch-vmlinux."
#define KPATCH_VMLINUX_SYM ".klp.sym.vmlinux."

struct kpatch_addrs {
	unsigned long *addrs;	/* NULL while counting */
	unsigned int count;
	unsigned int cap;
};

static int kpatch_addrs_cb(void *data, unsigned long addr)
{
	struct kpatch_addrs *a = data;

	if (a->addrs && a->count < a->cap)
		a->addrs[a->count] = addr;
	a->count++;
	return 0;
}

/*
 * The address of the vmlinux symbol @name at @sympos: 1-based in address order (the
 * order of kallsyms, which livepatch's positions count in), 0 only when the name is
 * unique. Counts first and then collects, so no name has too many copies.
 */
static int __kpatch_vmlinux_symbol(struct kpatch_patch *patch, const char *name,
				   unsigned long sympos, unsigned long *addr)
{
	struct kpatch_addrs a = {};
	int ret = 0;

	kpatch_syms.kallsyms_on_each_match_symbol(kpatch_addrs_cb, name, &a);
	if (a.count == 0 || (sympos == 0 && a.count > 1) || sympos > a.count) {
		__kpatch_set_error(patch, "load", -ENOENT,
				   "vmlinux symbol '%s' (position %lu) not found: %u symbols have that name",
				   name, sympos, a.count);
		return -ENOENT;
	}
	a.cap = a.count;
	a.count = 0;
	a.addrs = kmalloc_array(a.cap, sizeof(*a.addrs), GFP_KERNEL);
	if (!a.addrs) {
		__kpatch_set_error(patch, "load", -ENOMEM, "no memory to look up '%s'", name);
		return -ENOMEM;
	}
	kpatch_syms.kallsyms_on_each_match_symbol(kpatch_addrs_cb, name, &a);
	if (a.count != a.cap) {	/* kallsyms of vmlinux does not change */
		ret = -EAGAIN;
		__kpatch_set_error(patch, "load", ret, "vmlinux symbol '%s' changed while read", name);
	} else {
		sort(a.addrs, a.count, sizeof(*a.addrs), kpatch_cmp_addr, NULL);
		*addr = a.addrs[sympos ? sympos - 1 : 0];
	}
	kfree(a.addrs);
	return ret;
}

/*
 * Gives @sym (.klp.sym.vmlinux.NAME,POS, SHN_LIVEPATCH) its address. The name is
 * checked like the kernel checks its own .klp.sym names; errors go to last_error,
 * naming the symbol.
 */
static int __kpatch_resolve_sym(struct kpatch_patch *patch, Elf_Sym *sym, const char *strtab)
{
	const char *full = strtab + sym->st_name, *comma;
	char name[KSYM_NAME_LEN];
	unsigned long sympos, addr;
	size_t len;
	int ret;

	if (sym->st_shndx != SHN_LIVEPATCH || !str_has_prefix(full, KPATCH_VMLINUX_SYM)) {
		__kpatch_set_error(patch, "load", -EINVAL,
				   "relocation against '%s', which is not a .klp.sym.vmlinux. symbol",
				   full);
		return -EINVAL;
	}
	full += strlen(KPATCH_VMLINUX_SYM);
	comma = strrchr(full, ',');
	len = comma ? comma - full : 0;
	if (!len || len >= sizeof(name) || kstrtoul(comma + 1, 10, &sympos)) {
		__kpatch_set_error(patch, "load", -EINVAL, "malformed livepatch symbol '%s%s'",
				   KPATCH_VMLINUX_SYM, full);
		return -EINVAL;
	}
	memcpy(name, full, len);
	name[len] = '\0';
	ret = __kpatch_vmlinux_symbol(patch, name, sympos, &addr);
	if (ret)
		return ret;
	sym->st_value = addr;
	return 0;
}

int __kpatch_write_vmlinux_relocs(struct kpatch_patch *patch)
{
	struct module *pmod = patch->mod;
	const struct klp_modinfo *info = pmod->klp_info;
	const char *strtab = pmod->core_kallsyms.strtab;
	unsigned int nsyms = pmod->core_kallsyms.num_symtab;
	unsigned long *resolved;	/* symbols given their address, each once */
	Elf_Sym *symtab;
	unsigned int i, j;
	int ret = 0;

	lockdep_assert_held(&kpatch_mutex);
	/* only a module marked livepatch keeps its sections; without it there are none */
	if (!info)
		return 0;
	symtab = (Elf_Sym *)info->sechdrs[info->symndx].sh_addr;
	resolved = bitmap_zalloc(nsyms, GFP_KERNEL);
	if (!resolved) {
		__kpatch_set_error(patch, "load", -ENOMEM, "no memory for %u symbols", nsyms);
		return -ENOMEM;
	}
	for (i = 1; i < info->hdr.e_shnum; i++) {
		const Elf_Shdr *sec = &info->sechdrs[i];
		const Elf_Rela *rela = (const Elf_Rela *)sec->sh_addr;
		const char *secname = info->secstrings + sec->sh_name;

		if (!(sec->sh_flags & SHF_RELA_LIVEPATCH) ||
		    !str_has_prefix(secname, KPATCH_VMLINUX_RELA))
			continue;
		if (sec->sh_type != SHT_RELA || sec->sh_info >= info->hdr.e_shnum) {
			ret = -EINVAL;
			__kpatch_set_error(patch, "load", ret, "malformed section '%s'", secname);
			goto out;
		}
		for (j = 0; j < sec->sh_size / sizeof(*rela); j++) {
			unsigned long symi = ELF_R_SYM(rela[j].r_info);

			if (symi >= nsyms) {
				ret = -EINVAL;
				__kpatch_set_error(patch, "load", ret,
						   "section '%s' names symbol %lu, beyond the symbol table",
						   secname, symi);
				goto out;
			}
			if (test_bit(symi, resolved))
				continue;
			ret = __kpatch_resolve_sym(patch, &symtab[symi], strtab);
			if (ret)
				goto out;
			__set_bit(symi, resolved);
		}
		/* text_poke while the module is COMING: its text is read-only by now */
		ret = kpatch_syms.apply_relocate_add(info->sechdrs, strtab, info->symndx, i, pmod);
		if (ret) {
			__kpatch_set_error(patch, "load", ret,
					   "cannot write relocation section '%s' (the kernel log says why)",
					   secname);
			goto out;
		}
	}
out:
	bitmap_free(resolved);
	return ret;
}
