// SPDX-License-Identifier: GPL-2.0-only
/*
 * kp-init.c - the fixed part of every patch module that kpatch-build links.
 *
 * kpatch-build compiles this file, unchanged, into each patch module next to the
 * differ's objects (kp-diff-N.o, whose .kpatch.funcs entries kpatch.lds gathers) and
 * kp-main.c, which it generates per patch: kp-main.c defines kpatch_patch (name, hooks,
 * flags) and the module's metadata. At init this file turns the .kpatch.funcs entries
 * into struct kpatch_func_desc and registers the patch with the core.
 */
#include <linux/module.h>
#include <linux/slab.h>
#include "kpatch.h"

/* From kpatch.lds: the differ's .kpatch.funcs entries of every object. */
extern const struct kpatch_funcs_entry __kpatch_funcs[], __kpatch_funcs_end[];
/* From kp-main.c: this patch's description, without its functions. */
extern struct kpatch_patch_desc kpatch_patch;

static int __init kpatch_patch_init(void)
{
	size_t n = __kpatch_funcs_end - __kpatch_funcs, i;
	struct kpatch_func_desc *funcs;
	int ret;

	if (!n)
		return -EINVAL;
	funcs = kcalloc(n, sizeof(*funcs), GFP_KERNEL);
	if (!funcs)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		funcs[i].old_name = (const char *)(unsigned long)__kpatch_funcs[i].old_name;
		funcs[i].sympos = __kpatch_funcs[i].sympos;
		funcs[i].new_func = (void *)(unsigned long)__kpatch_funcs[i].new_func;
		funcs[i].old_size = __kpatch_funcs[i].old_size;
		funcs[i].flags = __kpatch_funcs[i].flags;
		funcs[i].verify_bytes = (const unsigned char *)(unsigned long)__kpatch_funcs[i].verify_bytes;
		funcs[i].verify_mask = (const unsigned char *)(unsigned long)__kpatch_funcs[i].verify_mask;
		funcs[i].verify_len = __kpatch_funcs[i].verify_len;
		funcs[i].objname = (const char *)(unsigned long)__kpatch_funcs[i].objname;
		funcs[i].old_cold_name = (const char *)(unsigned long)__kpatch_funcs[i].old_cold_name;
		funcs[i].old_cold_sympos = __kpatch_funcs[i].old_cold_sympos;
		funcs[i].new_cold = (void *)(unsigned long)__kpatch_funcs[i].new_cold;
	}
	kpatch_patch.funcs = funcs;
	kpatch_patch.nr_funcs = n;
	/* kpatch-klp-convert left the vmlinux relocations to the core */
	kpatch_patch.flags |= KPATCH_PATCH_CORE_RELOCS;
	ret = kpatch_register_patch(&kpatch_patch);
	if (ret) {
		kpatch_patch.funcs = NULL;
		kfree(funcs);
	}
	return ret;
}

static void __exit kpatch_patch_exit(void)
{
	kpatch_unregister_patch(&kpatch_patch);
	kfree(kpatch_patch.funcs);
}

module_init(kpatch_patch_init);
module_exit(kpatch_patch_exit);
MODULE_LICENSE("GPL");
