// Positions of a module's duplicated names from kbuild's link order (licence: GPL-2.0-only).
#include <kpatch/symbols/link_order.hpp>

#include "text_io.hpp"

namespace kpatch::symbols {

Expected<std::vector<LinkedObject>> read_link_order(const std::string &list_file)
{
    auto text = read_file(list_file);
    if (!text)
        return text.error();
    std::vector<LinkedObject> objects;
    Expected<void> status;
    size_t line_no = 0;
    detail::for_each_line(*text, [&](std::string_view line) {
        ++line_no;
        if (!status || line.empty())
            return;
        size_t tab = line.find('\t');
        if (tab == 0 || tab == std::string_view::npos || tab + 1 == line.size()) {
            status = make_error(list_file + ":" + std::to_string(line_no) +
                                ": expected \"OBJECT<TAB>PATH\"");
            return;
        }
        std::string path(line.substr(tab + 1));
        auto symbols = KernelSymbols::from_module_object(path);
        if (!symbols) {
            status = symbols.error().in(list_file + ":" + std::to_string(line_no));
            return;
        }
        objects.push_back({std::string(line.substr(0, tab)), std::move(*symbols)});
    });
    if (!status)
        return status.error();
    if (objects.empty())
        return make_error(list_file + ": lists no object");
    return objects;
}

namespace {

// The local copies of `name` in `table`, in its order.
std::vector<const Symbol *> local_copies(const KernelSymbols &table, std::string_view name)
{
    std::vector<const Symbol *> out;
    for (size_t i : table.occurrences(name))
        if (table.symbols()[i].is_local())
            out.push_back(&table.symbols()[i]);
    return out;
}

} // namespace

Expected<unsigned long> link_order_position(const KernelSymbols &module,
                                            std::string_view module_name, std::string_view name,
                                            bool is_local,
                                            const std::vector<LinkedObject> &objects,
                                            std::string_view self)
{
    const std::string sym = "`" + std::string(name) + "`";
    const std::string mod = "module " + std::string(module_name);
    const size_t copies = module.count(name);
    if (copies == 0)
        return make_error(sym + " is not in the symbol table of " + mod + " (" +
                          module.origin() + "): is that the target's .ko?");
    if (copies == 1)
        return 0UL;
    std::vector<const Symbol *> ko_locals = local_copies(module, name);
    if (!is_local) {
        // One global at most (the linker saw to it), after every local.
        if (copies - ko_locals.size() != 1)
            return make_error(mod + " has " + std::to_string(copies - ko_locals.size()) +
                              " global symbols named " + sym + " (" + module.origin() + ")");
        return static_cast<unsigned long>(ko_locals.size() + 1);
    }

    // Each object's local copies, in link order, and where `self` starts among them.
    std::vector<std::pair<const LinkedObject *, const Symbol *>> defs;
    std::string candidates;
    size_t self_first = 0, self_count = 0;
    bool self_listed = false;
    for (const LinkedObject &o : objects) {
        std::vector<const Symbol *> own = local_copies(o.symbols, name);
        if (o.object == self) {
            self_listed = true;
            self_first = defs.size();
            self_count = own.size();
        }
        for (const Symbol *s : own) {
            defs.emplace_back(&o, s);
            candidates += (candidates.empty() ? "" : ", ") + o.object + " (" +
                          std::to_string(s->size) + " bytes)";
        }
    }
    if (candidates.empty())
        candidates = "none";
    const std::string which = "cannot tell which copy of " + sym + " in " + mod + " is " +
                              std::string(self) + "'s: ";
    if (!self_listed)
        return make_error(which + "it is not among the module's " +
                          std::to_string(objects.size()) + " objects in link order");
    if (self_count != 1)
        return make_error(which + "it defines " + std::to_string(self_count) +
                          " local copies, not one (objects defining it: " + candidates + ")");
    if (defs.size() != ko_locals.size())
        return make_error(which + "the .ko has " + std::to_string(ko_locals.size()) +
                          " local copies but the module's objects in link order define " +
                          std::to_string(defs.size()) + ": " + candidates +
                          " (are the objects built from the target's source and config?)");
    for (size_t j = 0; j < defs.size(); ++j)
        if (defs[j].second->size != ko_locals[j]->size)
            return make_error(which + "copy " + std::to_string(j + 1) + " in the .ko is " +
                              std::to_string(ko_locals[j]->size) + " bytes, but the " +
                              "object it should come from, " + defs[j].first->object +
                              ", has " + std::to_string(defs[j].second->size) +
                              " (objects defining it: " + candidates +
                              "); the objects do not match the target's .ko");
    return static_cast<unsigned long>(self_first + 1);
}

} // namespace kpatch::symbols
