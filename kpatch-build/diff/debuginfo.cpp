// One object's DWARF, relocated and opened once, for the passes that read it (licence: GPL-2.0-only).
//
// A relocatable object's DWARF is only meaningful once its relocations are applied (names
// are .debug_str offsets held in RELA addends, addresses are section-relative): libdwfl
// does that when it reports the object offline, giving each allocated section an address.
// Opening it costs a copy of the debug sections, so it happens on first use only, and the
// line tables (lines.cpp) and the type-layout check (layout.cpp) share the one copy.
#include <elfutils/libdwfl.h>

#include "diff/passes.hpp"

namespace kpatch::diff {

struct DebugInfo::Impl {
    std::string path;
    bool opened = false;
    Dwfl *dwfl = nullptr;
    Dwfl_Module *module = nullptr;
    Dwarf *dwarf = nullptr;
    uint64_t bias = 0;
};

DebugInfo::DebugInfo(std::string path) : impl_(std::make_unique<Impl>())
{
    impl_->path = std::move(path);
}

DebugInfo::~DebugInfo()
{
    if (impl_->dwfl)
        dwfl_end(impl_->dwfl);
}

void DebugInfo::open()
{
    if (impl_->opened)
        return;
    impl_->opened = true;
    if (impl_->path.empty())
        return;
    static const Dwfl_Callbacks callbacks = {
        .find_elf = dwfl_build_id_find_elf,
        .find_debuginfo = dwfl_standard_find_debuginfo,
        .section_address = dwfl_offline_section_address,
        .debuginfo_path = nullptr,
    };
    impl_->dwfl = dwfl_begin(&callbacks);
    if (!impl_->dwfl)
        return;
    impl_->module = dwfl_report_offline(impl_->dwfl, "", impl_->path.c_str(), -1);
    dwfl_report_end(impl_->dwfl, nullptr, nullptr);
    if (!impl_->module)
        return;
    Dwarf_Addr bias = 0;
    impl_->dwarf = dwfl_module_getdwarf(impl_->module, &bias);
    impl_->bias = bias;
}

Dwarf *DebugInfo::dwarf()
{
    open();
    return impl_->dwarf;
}

Dwfl_Module *DebugInfo::module()
{
    open();
    return impl_->dwarf ? impl_->module : nullptr;
}

uint64_t DebugInfo::bias()
{
    open();
    return impl_->bias;
}

std::optional<uint64_t> DebugInfo::symbol_address(uint32_t index)
{
    Dwfl_Module *mod = module();
    if (!mod || index == 0)
        return std::nullopt;
    GElf_Sym sym;
    GElf_Addr addr = 0;
    GElf_Word shndx = 0;
    if (!dwfl_module_getsym_info(mod, static_cast<int>(index), &sym, &addr, &shndx, nullptr, nullptr))
        return std::nullopt;
    return addr;
}

} // namespace kpatch::diff
