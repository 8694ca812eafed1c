// KernelResolver: positions and exports from the target kernel's own tables (licence: GPL-2.0-only).
#include "diff/kernel_resolver.hpp"

namespace kpatch::diff {

Expected<std::unique_ptr<KernelResolver>> KernelResolver::load(const std::string &symbols_file,
                                                                const std::string &symvers_file,
                                                                const std::string &object_path,
                                                                const std::vector<std::string> &module_symvers)
{
    auto r = std::make_unique<KernelResolver>();
    r->object_path_ = object_path;
    r->symbols_file_ = symbols_file;
    if (!symvers_file.empty()) {
        auto e = symbols::ExportTable::load(symvers_file);
        if (!e)
            return e.error();
        r->exports_ = std::move(*e);
    }
    for (const auto &file : module_symvers) {
        auto e = symbols::ExportTable::load(file);
        if (!e)
            return e.error();
        r->module_exports_.push_back(std::move(*e));
    }
    return r;
}

const symbols::KernelSymbols *KernelResolver::table() const
{
    if (!table_ && !table_error_ && !symbols_file_.empty()) {
        auto t = symbols::KernelSymbols::load(symbols_file_);
        if (t)
            table_ = std::move(*t);
        else
            table_error_ = t.error();
    }
    return table_ ? &*table_ : nullptr;
}

Expected<unsigned long> KernelResolver::position(std::string_view name, bool is_local,
                                                 const std::vector<std::string> &object_symbols) const
{
    table();
    if (table_error_)
        return *table_error_;
    if (!table_)
        return 0ul;   // without a table the name is taken as unique (the loader checks)
    // A global the table lacks (kpatch's SYMTAB may be the object's own) has one copy at most.
    if (!table_->contains(name) && !is_local)
        return 0ul;
    if (!table_->contains(name))
        return Error{"`" + std::string(name) + "` is not in " + table_->origin()};
    return symbols::resolve_position(&*table_, name, is_local, object_symbols, object_path_);
}

bool KernelResolver::knows_exports() const { return exports_ && exports_->size() != 0; }

bool KernelResolver::is_exported(std::string_view name) const
{
    for (const auto &m : module_exports_)
        if (m.is_exported(name))
            return true;
    return knows_exports() && exports_->is_exported_by_vmlinux(name);
}

Expected<void> KernelResolver::load_module(const std::string &name, const std::string &ko_path)
{
    auto t = symbols::KernelSymbols::from_module(ko_path);
    if (!t)
        return t.error();
    module_name_ = name;
    module_table_ = std::move(*t);
    return {};
}

std::string KernelResolver::exporter(std::string_view name) const
{
    // Only the kernel's own table: the core's exports (kpatch_shadow_*) stay plain
    // undefined symbols, as every patch module depends on the core anyway.
    return exports_ ? exports_->exporter(name) : std::string();
}

bool KernelResolver::module_defines(std::string_view name) const
{
    return module_table_ && module_table_->contains(name);
}

Expected<void> KernelResolver::load_link_order(const std::string &list_file)
{
    auto objects = symbols::read_link_order(list_file);
    if (!objects)
        return objects.error();
    link_order_ = std::move(*objects);
    return {};
}

// A module's symbols are counted in its .ko's symbol-table order, where ld put each
// object's locals in link order: the link order, not the neighbours, tells the copies of
// a duplicated local apart (a .ko has no STT_FILE symbols to bound the objects' runs, and
// objects built from one source, such as minix's itree_v1.o and itree_v2.o, look alike).
Expected<unsigned long> KernelResolver::module_position(std::string_view name, bool is_local,
                                                        const std::vector<std::string> &) const
{
    if (!module_table_)
        return 0ul;   // no .ko: taken as unique (the kernel refuses ,0 when it is not)
    if (!module_table_->contains(name) && !is_local)
        return 0ul;
    static const std::vector<symbols::LinkedObject> none;
    if (module_table_->count(name) > 1 && is_local && !link_order_) {
        link_order_needed_.emplace_back(name);
        return Error{"module " + module_name_ + " has " +
                     std::to_string(module_table_->count(name)) + " symbols named `" +
                     std::string(name) + "`; telling them apart needs the module's objects in "
                     "link order (--module-objects)"};
    }
    return symbols::link_order_position(*module_table_, module_name_, name, is_local,
                                        link_order_ ? *link_order_ : none, object_path_);
}

} // namespace kpatch::diff
