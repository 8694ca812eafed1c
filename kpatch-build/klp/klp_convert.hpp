// Turns create-diff-object's placeholder references into livepatch ELF after the module link (licence: GPL-2.0-only).
//
// Input: a linked module whose relocations name undefined symbols `.klp.sym.<obj>.<name>,<pos>`
// (the intermediate form, doc/interfaces.md). Output: every such relocation moved into
// `.klp.rela.<obj>.<section>` (SHT_RELA, SHF_ALLOC|SHF_INFO_LINK|SHF_RELA_LIVEPATCH, sh_info
// = the section it applies to), the bytes it applies to zeroed, and the symbols marked
// SHN_LIVEPATCH, which the 6.1 module loader resolves through kallsyms.
#pragma once

#include <string>

#include <kpatch/expected.hpp>

#include "elf/object.hpp"

namespace kpatch::klp {

struct ConvertStats {
    size_t symbols = 0;       // placeholder symbols marked SHN_LIVEPATCH
    size_t relocations = 0;   // relocations moved
    size_t sections = 0;      // .klp.rela sections made
};

Expected<ConvertStats> convert(elf::Object &module);

} // namespace kpatch::klp
