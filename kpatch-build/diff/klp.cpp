// Pass 6 (pipeline.cpp), output, klp references: how copied code reaches kernel symbols that are not exported (licence: GPL-2.0-only).
//
// The patch object must link cleanly through kbuild, and linkers mangle real livepatch
// ELF (SHN_LIVEPATCH symbols, a second relocation section for one section). So the
// differ writes an intermediate form (doc/interfaces.md): an ordinary relocation against
// an UNDEFINED GLOBAL placeholder symbol named exactly as the final livepatch symbol,
// `.klp.sym.<object>.<name>,<pos>`. ld keeps such relocations as they are; after the
// module link, kpatch-klp-convert (kpatch-build/klp/) moves every relocation against a
// `.klp.sym.` symbol into `.klp.rela.<object>.<section>` and marks the symbol SHN_LIVEPATCH.
#include "diff/passes.hpp"

namespace kpatch::diff {

std::string klp_symbol_name(const std::string &object, const std::string &name, unsigned long pos)
{
    return ".klp.sym." + object + "." + name + "," + std::to_string(pos);
}

} // namespace kpatch::diff
