// SPDX-License-Identifier: GPL-2.0-only
/*
 * verify.c - checks, before a patch is enabled, that each function it replaces is, in
 * the running kernel, the code the patch was built against.
 *
 * kpatch-build records the original object's bytes of each replaced function and a
 * mask that is 0 where the running code may legitimately differ (relocated fields, the
 * ftrace site, sites rewritten by alternatives, jump labels, static calls, retpolines,
 * return thunks, lock prefixes). A patch built from other source, or for another build
 * of the same release, would replace a function whose callers, data layout or inlined
 * helpers it does not know, so it is refused before anything changes.
 *
 * kallsyms sizes run to the next symbol, so they include the alignment padding after
 * a function (multi-byte NOPs from the assembler, int3 from the linker), and sometimes
 * more: the code of an overridden __weak function has no symbol of its own. So for a
 * function the differ saw aligned and covered whole (KPATCH_FUNC_VERIFY_PADDING), only
 * the bytes from its end to the next 16-byte boundary, where the next function may
 * start at the earliest, must be padding: a longer running function has code there.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include "core.h"
#include <linux/timekeeping.h>

/* gcc and the kernel's SYM_FUNC_START align every function to at least 16 bytes. */
#define KPATCH_FUNC_ALIGN	16

/*
 * Length of the padding instruction at @p (at most @left bytes), 0 if it is not one:
 * int3, nop, or a NOP of the form [66...] [2e] 0f 1f modrm [sib] [disp], which is what
 * gas emits for .p2align in code.
 */
static unsigned int kpatch_pad_len(const u8 *p, unsigned long left)
{
	unsigned int i = 0, len, mod, rm;

	if (p[0] == 0xcc || p[0] == 0x90)
		return 1;
	while (i < left && p[i] == 0x66)
		i++;
	if (i && i < left && p[i] == 0x90)
		return i + 1;
	if (i < left && p[i] == 0x2e)
		i++;
	if (i + 3 > left || p[i] != 0x0f || p[i + 1] != 0x1f)
		return 0;
	mod = p[i + 2] >> 6;
	rm = p[i + 2] & 7;
	if (mod == 3)
		return 0;
	len = i + 3 + (rm == 4) + (mod == 1 ? 1 : mod == 2 ? 4 : 0);
	return len <= left ? len : 0;
}

/*
 * Offset of the first byte from @from on that is not padding, if it is before
 * @boundary; else @boundary (a padding instruction may cross it, not @limit).
 */
static unsigned long kpatch_pad_end(const u8 *code, unsigned long from,
				    unsigned long boundary, unsigned long limit)
{
	unsigned long at = from;
	unsigned int len;

	while (at < boundary) {
		len = kpatch_pad_len(code + at, limit - at);
		if (!len)
			return at;
		at += len;
	}
	return boundary;
}

/*
 * Compares the running code of @func (resolved: old_addr and the kallsyms old_size
 * are set) with what the patch was built against; a function without verification
 * data passes. On a mismatch, records "load ENOEXEC" with the function and the first
 * differing offset. Reads kernel text only; caller holds kpatch_mutex.
 */
static int __kpatch_verify_func(struct kpatch_func *func)
{
	const u8 *code = (const u8 *)func->old_addr;
	unsigned long i, end, pad;

	lockdep_assert_held(&kpatch_mutex);
	if (!func->verify_len)
		return 0;
	if (func->old_size < func->verify_len) {
		__kpatch_set_error(func->patch, "load", -ENOEXEC,
				   "function '%s' is %lu bytes in the running kernel, %lu in the object the patch was built from",
				   func->old_name, func->old_size, func->obj_size);
		return -ENOEXEC;
	}
	for (i = 0; i < func->verify_len; i++) {
		if ((code[i] ^ func->verify_bytes[i]) & func->verify_mask[i]) {
			__kpatch_set_error(func->patch, "load", -ENOEXEC,
					   "function '%s' differs from the code the patch was built against at offset 0x%lx (running %02x, expected %02x)%s",
					   func->old_name, i, code[i], func->verify_bytes[i],
					   code[i] == 0xcc ?
					   "; an int3: a kprobe or breakpoint there?" : "");
			return -ENOEXEC;
		}
	}
	if (!(func->flags & KPATCH_FUNC_VERIFY_PADDING) || func->verify_len != func->obj_size)
		return 0;
	pad = min(func->old_size,
		  ALIGN(func->old_addr + func->verify_len, KPATCH_FUNC_ALIGN) - func->old_addr);
	end = kpatch_pad_end(code, func->verify_len, pad, func->old_size);
	if (end != pad) {
		__kpatch_set_error(func->patch, "load", -ENOEXEC,
				   "function '%s' is longer in the running kernel than in the object the patch was built from (code at offset 0x%lx, after its end at 0x%lx)",
				   func->old_name, end, func->verify_len);
		return -ENOEXEC;
	}
	return 0;
}

/*
 * Verifies every function of @obj (resolved); the time it took goes to
 * kpatch_stats.verify_ns. Caller holds kpatch_mutex.
 */
int __kpatch_verify_object(struct kpatch_object *obj)
{
	struct kpatch_patch *patch = obj->patch;
	u64 start = ktime_get_ns();
	unsigned int i;
	int ret = 0;

	lockdep_assert_held(&kpatch_mutex);
	for (i = 0; i < patch->nr_funcs && !ret; i++)
		if (patch->funcs[i].obj == obj)
			ret = __kpatch_verify_func(&patch->funcs[i]);
	kpatch_stats.verify_ns = ktime_get_ns() - start;
	return ret;
}
