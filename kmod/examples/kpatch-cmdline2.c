// SPDX-License-Identifier: GPL-2.0-only
/*
 * kpatch-cmdline2.c - a second patch of cmdline_proc_show() with its own marker, for
 * stacking tests; the code is kpatch-cmdline.c's.
 */
#define KPATCH_CMDLINE_MARKER "kpatch_cmdline2: this /proc/cmdline comes from the second live patch\n"
#include "kpatch-cmdline.c"
