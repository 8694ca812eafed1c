/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * kpatch-example.h - the module boilerplate of the hand-written example patches:
 * one patch named after the module, registered (and so enabled) at load and
 * unregistered at removal, as kpatch.h asks.
 */
#ifndef _KPATCH_EXAMPLE_H
#define _KPATCH_EXAMPLE_H

#include <linux/module.h>
#include "kpatch.h"

/* Patch flags (KPATCH_PATCH_*) an example may define before including this. */
#ifndef KPATCH_EXAMPLE_FLAGS
#define KPATCH_EXAMPLE_FLAGS 0
#endif

#define KPATCH_EXAMPLE_PATCH(funcs_array, description)				\
static struct kpatch_patch_desc kpatch_example_patch = {			\
	.name = KBUILD_MODNAME,							\
	.mod = THIS_MODULE,							\
	.funcs = funcs_array,							\
	.nr_funcs = ARRAY_SIZE(funcs_array),					\
	.flags = KPATCH_EXAMPLE_FLAGS,						\
};										\
static int __init kpatch_example_init(void)					\
{										\
	return kpatch_register_patch(&kpatch_example_patch);			\
}										\
static void __exit kpatch_example_exit(void)					\
{										\
	kpatch_unregister_patch(&kpatch_example_patch);				\
}										\
module_init(kpatch_example_init);						\
module_exit(kpatch_example_exit);						\
MODULE_LICENSE("GPL");								\
MODULE_DESCRIPTION(description)

#endif /* _KPATCH_EXAMPLE_H */
