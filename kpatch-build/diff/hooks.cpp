// Patch hooks: the `.kpatch.hooks.<kind>` sections a patch source fills through
// kmod/include/kpatch-patch.h go to the output whole (licence: GPL-2.0-only).
//
// Each section holds pointers to hook functions of the patch. Those are new functions,
// which include() has taken already; nothing in the code refers to the sections, so
// include() adds them here by name, as its last step (after its refusals and its list of
// new data, which the hooks' descriptors are not part of). Their relocations are
// rewritten like any copied section's (output.cpp), and the generated module source
// finds them through its linker script (kpatch-build, module_hooks.cpp). Which kinds exist and how many of each is
// kpatch-build's business: it sees every object of the module.
#include <elf.h>

#include "diff/passes.hpp"

namespace kpatch::diff {

bool is_hook_section(std::string_view name) { return name.starts_with(".kpatch.hooks."); }

void include_hooks(CodeIndex &code_p, Inclusion &inc)
{
    for (auto &sp : code_p.object().sections) {
        if (sp->type == SHT_RELA || !is_hook_section(sp->name))
            continue;
        inc.copied.insert(sp.get());
        for (const Symbol *s : code_p.symbols_in(*sp))
            inc.emitted.insert(s);
    }
}

} // namespace kpatch::diff
