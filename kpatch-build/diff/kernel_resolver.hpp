// The differ's SymbolResolver over kpatch::symbols (kallsyms/vmlinux/readelf + Module.symvers) (licence: GPL-2.0-only).
// A separate small library so the differ itself does not depend on kpatch::symbols.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <kpatch/symbols/kernel_symbols.hpp>
#include <kpatch/symbols/link_order.hpp>

#include "diff/diff.hpp"

namespace kpatch::diff {

class KernelResolver : public SymbolResolver {
public:
    // Either file may be empty. Errors name the file (a bad symbol table surfaces at its
    // first use, as the error of position()). `module_symvers`: Module.symvers files of
    // modules the patch module may call (the core's: kpatch_shadow_*), whose exports stay
    // plain undefined symbols like the kernel's.
    static Expected<std::unique_ptr<KernelResolver>> load(const std::string &symbols_file,
                                                          const std::string &symvers_file,
                                                          const std::string &object_path,
                                                          const std::vector<std::string> &module_symvers = {});

    // The patched object belongs to module `name`, whose shipped .ko is `ko_path`.
    Expected<void> load_module(const std::string &name, const std::string &ko_path);
    // The module's objects in link order (read_link_order's list), which tell the copies
    // of a name the module has more than once apart. Without it such a name is an error,
    // and the name is recorded in link_order_needed().
    Expected<void> load_link_order(const std::string &list_file);
    const std::vector<std::string> &link_order_needed() const { return link_order_needed_; }

    Expected<unsigned long> position(std::string_view name, bool is_local,
                                     const std::vector<std::string> &object_symbols) const override;
    bool knows_exports() const override;
    bool is_exported(std::string_view name) const override;
    std::string exporter(std::string_view name) const override;
    bool module_defines(std::string_view name) const override;
    Expected<unsigned long> module_position(std::string_view name, bool is_local,
                                            const std::vector<std::string> &object_symbols) const override;

private:
    // The symbol table is read on the first question that needs it (a kallsyms copy is
    // ~100k lines; most runs of the differ never ask).
    const symbols::KernelSymbols *table() const;

    std::string symbols_file_;
    mutable std::optional<symbols::KernelSymbols> table_;
    mutable std::optional<Error> table_error_;
    std::optional<symbols::ExportTable> exports_;
    std::vector<symbols::ExportTable> module_exports_;
    std::string object_path_;
    std::string module_name_;
    std::optional<symbols::KernelSymbols> module_table_;
    std::optional<std::vector<symbols::LinkedObject>> link_order_;
    mutable std::vector<std::string> link_order_needed_;
};

} // namespace kpatch::diff
