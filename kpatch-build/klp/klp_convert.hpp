// Turns create-diff-object's placeholder references into livepatch ELF after the module link (licence: GPL-2.0-only).
//
// Input: a linked module whose relocations name undefined symbols `.klp.sym.<obj>.<name>,<pos>`
// (the intermediate form, doc/interfaces.md). Output: every such relocation moved into
// `.klp.rela.<obj>.<section>` (SHT_RELA, SHF_ALLOC|SHF_INFO_LINK|SHF_RELA_LIVEPATCH, sh_info
// = the section it applies to), the bytes it applies to zeroed, and the symbols marked
// SHN_LIVEPATCH. vmlinux's relocations go to `.klp.rela.kpatch-vmlinux.<section>`, which
// the module loader leaves to the core (it writes them at registration, resolving each
// symbol once); a module's are written by the core when that module loads.
#pragma once

#include <string>

#include <kpatch/expected.hpp>

#include "elf/object.hpp"

namespace kpatch::klp {

// The object name of the sections the core writes at registration ('-' is in no module's
// name as the kernel spells it, so no module is mistaken for it).
inline constexpr const char *kCoreVmlinuxObject = "kpatch-vmlinux";

struct ConvertStats {
    size_t symbols = 0;       // placeholder symbols marked SHN_LIVEPATCH
    size_t relocations = 0;   // relocations moved
    size_t sections = 0;      // .klp.rela sections made
};

Expected<ConvertStats> convert(elf::Object &module);

} // namespace kpatch::klp
