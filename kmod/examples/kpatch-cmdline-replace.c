// SPDX-License-Identifier: GPL-2.0-only
/*
 * kpatch-cmdline-replace.c - a cumulative patch (KPATCH_PATCH_REPLACE) of
 * cmdline_proc_show() with its own marker: enabling it replaces every enabled patch,
 * so functions only they changed (say, kpatch-coldsleep's version_proc_show) go back
 * to the original. The code is kpatch-cmdline.c's.
 */
#include "kpatch.h"
#define KPATCH_CMDLINE_MARKER "kpatch_cmdline_replace: this /proc/cmdline comes from a cumulative live patch\n"
#define KPATCH_EXAMPLE_FLAGS KPATCH_PATCH_REPLACE
#include "kpatch-cmdline.c"
/* What kpatch-build --replace records for the loader (install order, kpatchd). */
MODULE_INFO(kpatch_replace, "1");
