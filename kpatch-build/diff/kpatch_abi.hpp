// The patch-module ABI the differ writes (.kpatch.funcs), taken from the kernel header itself (licence: GPL-2.0-only).
//
// kmod/include/kpatch.h declares struct kpatch_funcs_entry for the patch module that
// reads the table (kmod/patch/kp-init.c); the differ writes the same entries byte by
// byte. Both take the layout from that one header: here its offsets and flags, checked
// against what the writer assumes (each field a 64-bit little-endian value, no padding).
#pragma once

#include <cstddef>
#include <cstdint>

extern "C" {
#include "kpatch.h"   // kmod/include (diff/meson.build puts it on the include path)
}

namespace kpatch::diff::abi {

inline constexpr unsigned funcs_entry_size = sizeof(kpatch_funcs_entry);

// Offsets of struct kpatch_funcs_entry's fields.
enum FuncsField : unsigned {
    NewFunc = offsetof(kpatch_funcs_entry, new_func),
    OldName = offsetof(kpatch_funcs_entry, old_name),
    Sympos = offsetof(kpatch_funcs_entry, sympos),
    OldSize = offsetof(kpatch_funcs_entry, old_size),
    Flags = offsetof(kpatch_funcs_entry, flags),
    VerifyBytes = offsetof(kpatch_funcs_entry, verify_bytes),
    VerifyMask = offsetof(kpatch_funcs_entry, verify_mask),
    VerifyLen = offsetof(kpatch_funcs_entry, verify_len),
    ObjName = offsetof(kpatch_funcs_entry, objname),
    OldColdName = offsetof(kpatch_funcs_entry, old_cold_name),
    OldColdSympos = offsetof(kpatch_funcs_entry, old_cold_sympos),
    NewCold = offsetof(kpatch_funcs_entry, new_cold),
};

inline constexpr uint64_t flag_no_stack_check = KPATCH_FUNC_NO_STACK_CHECK;
inline constexpr uint64_t flag_verify_padding = KPATCH_FUNC_VERIFY_PADDING;

// The writer puts 8 bytes at each offset and no padding between: twelve __u64 fields,
// in this order. A field added to the header fails here until the writer knows it.
static_assert(sizeof(kpatch_funcs_entry) == 12 * 8, "struct kpatch_funcs_entry is twelve __u64 fields");
static_assert(sizeof(kpatch_funcs_entry::new_func) == 8 && sizeof(kpatch_funcs_entry::old_name) == 8 &&
              sizeof(kpatch_funcs_entry::sympos) == 8 && sizeof(kpatch_funcs_entry::old_size) == 8 &&
              sizeof(kpatch_funcs_entry::flags) == 8 && sizeof(kpatch_funcs_entry::verify_bytes) == 8 &&
              sizeof(kpatch_funcs_entry::verify_mask) == 8 && sizeof(kpatch_funcs_entry::verify_len) == 8 &&
              sizeof(kpatch_funcs_entry::objname) == 8 && sizeof(kpatch_funcs_entry::old_cold_name) == 8 &&
              sizeof(kpatch_funcs_entry::old_cold_sympos) == 8 && sizeof(kpatch_funcs_entry::new_cold) == 8,
              "every field of struct kpatch_funcs_entry is 64-bit");
static_assert(NewFunc == 0 && OldName == 8 && Sympos == 16 && OldSize == 24 && Flags == 32 &&
              VerifyBytes == 40 && VerifyMask == 48 && VerifyLen == 56 && ObjName == 64 &&
              OldColdName == 72 && OldColdSympos == 80 && NewCold == 88,
              "struct kpatch_funcs_entry's fields are where patch modules already built expect them");

} // namespace kpatch::diff::abi
