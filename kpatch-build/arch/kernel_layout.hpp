// What the driver and the loader know of an architecture's kernel, as plain data (licence: GPL-2.0-only).
//
// Header-only and free of Capstone, so kpatch-build's driver (kbuild's SRCARCH and the
// arch/ directory) and the loader (struct module in a .ko) read it without linking the
// differ's arch library. The differ's questions about code are in arch.hpp. Adding an
// architecture is adding its row here and its Arch in a file next to x86_64.cpp.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include <elf.h>

namespace kpatch::arch {

// The struct one entry of a special section is, and the header that declares it (as of
// Linux 6.1): kpatch-build compiles sizeof(struct) with the kernel tree's headers
// (driver/src/entry_sizes.cpp).
struct EntryStruct {
    const char *section;
    const char *type;
    const char *header;
};

inline constexpr EntryStruct kX86EntryStructs[] = {
    {"__bug_table", "bug_entry", "linux/bug.h"},
    {".altinstructions", "alt_instr", "asm/alternative.h"},
    {"__jump_table", "jump_entry", "linux/jump_label.h"},
    {"__ex_table", "exception_table_entry", "asm/extable.h"},
    {".parainstructions", "paravirt_patch_site", "asm/paravirt_types.h"},
    {".static_call_sites", "static_call_site", "linux/static_call_types.h"},
    {".orc_unwind", "orc_entry", "asm/orc_types.h"},
};

struct KernelLayout {
    const char *name;            // uname -m, and Arch::name()
    uint16_t e_machine;          // the ELF machine of its objects and modules
    const char *srcarch;         // kbuild's SRCARCH: the directory under arch/
    const char *bits;            // kbuild's BITS
    // offsetof(struct module, name) in Linux 6.1: the name in a .ko's
    // .gnu.linkonce.this_module (after enum module_state state and struct list_head list).
    size_t module_name_offset;
    std::span<const EntryStruct> entry_structs;  // special sections whose entry is a struct

    // "arch/<srcarch>", the kernel tree's directory of this architecture.
    std::string arch_dir() const { return std::string("arch/") + srcarch; }
};

inline constexpr KernelLayout kKernelLayouts[] = {
    {"x86_64", EM_X86_64, "x86", "64", 24, kX86EntryStructs},
};

// The layout for objects of `e_machine`; null for machines kpatch does not support.
constexpr const KernelLayout *kernel_layout(uint16_t e_machine)
{
    for (const KernelLayout &l : kKernelLayouts)
        if (l.e_machine == e_machine)
            return &l;
    return nullptr;
}

// The kernel kpatch-build builds for is the one it runs beside: the host's architecture.
// Declared only for hosts with a row above (a driver built elsewhere fails to compile
// here, rather than build for the wrong arch/ directory); the loader does not use it.
#if defined(__x86_64__)
inline constexpr uint16_t kHostMachine = EM_X86_64;

constexpr const KernelLayout &host_kernel_layout()
{
    return *kernel_layout(kHostMachine);
}
#endif

} // namespace kpatch::arch
