// Test helper: a kernel as seen from an object of the ext4 module (licence: GPL-2.0-only).
#pragma once

#include <set>
#include <string>

#include "diff/diff.hpp"

namespace fixtures {

// A kernel in which `modpart_helper` and `modpart_scale` are ext4's own (the latter the
// second of two in ext4's symbol table), `modpart_other_export` is exported by jbd2,
// and a few names by vmlinux.
class FakeModuleKernel : public kpatch::diff::SymbolResolver {
public:
    kpatch::Expected<unsigned long> position(std::string_view, bool,
                                     const std::vector<std::string> &) const override
    {
        return 0ul;
    }
    bool knows_exports() const override { return true; }
    bool is_exported(std::string_view name) const override
    {
        return vmlinux.count(name) != 0 || name == "modpart_other_export";
    }
    std::string exporter(std::string_view name) const override
    {
        if (vmlinux.count(name))
            return "vmlinux";
        return name == "modpart_other_export" ? "jbd2" : "";
    }
    bool module_defines(std::string_view name) const override
    {
        return name == "modpart_helper" || name == "modpart_scale" || name == "modpart_show" ||
               name == "modpart_count" || name == "fixture_key" || name == "fixture_branch" ||
               name == "modalt_slow" || name == "modalt_fast" ||
               name.rfind("__SCK__fixture_sc", 0) == 0 || name.rfind("__SCT__fixture_sc", 0) == 0 ||
               name == "fixture_sc_target";
    }
    kpatch::Expected<unsigned long> module_position(std::string_view name, bool,
                                            const std::vector<std::string> &) const override
    {
        if (name == "modpart_scale")
            return 2ul;
        if (name == "modpart_show")
            return 1ul;
        return 0ul;
    }
    std::set<std::string, std::less<>> vmlinux{"__fentry__", "__x86_return_thunk", "_printk"};
};

inline kpatch::diff::Options in_module(const FakeModuleKernel &k)
{
    kpatch::diff::Options o;
    o.object_path = "fs/ext4/fixture.o";
    o.klp_object = "ext4";
    o.symbols = &k;
    return o;
}

} // namespace fixtures
