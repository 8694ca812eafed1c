// Which copy of a duplicated kernel symbol an object owns, as a livepatch `sympos`
// (licence: GPL-2.0-only).
#include <kpatch/symbols/kernel_symbols.hpp>

#include <algorithm>
#include <unordered_set>

namespace kpatch::symbols {

void KernelSymbols::index()
{
    by_name_.clear();
    by_name_.reserve(symbols_.size()); // no rehashing while ~100,000 names go in
    for (size_t i = 0; i < symbols_.size(); ++i)
        by_name_[symbols_[i].name].push_back(i);
}

const std::vector<size_t> &KernelSymbols::occurrences(std::string_view name) const
{
    static const std::vector<size_t> none;
    auto it = by_name_.find(name);
    return it == by_name_.end() ? none : it->second;
}

size_t KernelSymbols::count(std::string_view name) const
{
    return occurrences(name).size();
}

namespace {

std::string describe(std::string_view name, std::string_view object_path)
{
    std::string s = "`" + std::string(name) + "`";
    if (!object_path.empty())
        s += " (" + std::string(object_path) + ")";
    return s;
}

} // namespace

// The object is recognised by its neighbours. Without -ffunction-sections the linker
// keeps each object's .text (and .data, .bss, .rodata) in one piece, so around the
// object's copy of `name` the kallsyms order lists the object's other functions (or
// data) without interruption, while another object's copy of the same name is
// surrounded by that object's symbols. For every copy we count the longest unbroken run
// of the object's own names that contains it; the copy with the longest run wins. A
// tie means the neighbourhoods do not tell the copies apart (e.g. two objects built from
// the same source): refuse rather than guess.
Expected<unsigned long> KernelSymbols::position(std::string_view name,
                                                const std::vector<std::string> &object_symbols,
                                                std::string_view object_path) const
{
    const std::vector<size_t> &copies = occurrences(name);
    if (copies.empty())
        return make_error("symbol " + describe(name, object_path) +
                          " is not in the kernel's symbol table (" + origin_ +
                          "): is the table from the target kernel?");
    if (copies.size() == 1)
        return 0UL;

    std::unordered_set<std::string_view> own(object_symbols.begin(), object_symbols.end());
    own.insert(name);
    auto run_length = [&](size_t at) {
        size_t lo = at, hi = at;
        while (lo > 0 && own.count(symbols_[lo - 1].name))
            --lo;
        while (hi + 1 < symbols_.size() && own.count(symbols_[hi + 1].name))
            ++hi;
        return hi - lo + 1;
    };

    size_t best = 0, best_run = 0, ties = 0;
    std::string runs;
    for (size_t i = 0; i < copies.size(); ++i) {
        size_t run = run_length(copies[i]);
        runs += (i ? ", " : "") + std::to_string(i + 1) + ":" + std::to_string(run);
        if (run > best_run) {
            best = i;
            best_run = run;
            ties = 0;
        } else if (run == best_run) {
            ++ties;
        }
    }
    if (ties || best_run < 2)
        return make_error("cannot tell which of the " + std::to_string(copies.size()) +
                          " kernel symbols named " + describe(name, object_path) +
                          " belongs to this object: its neighbours in " + origin_ +
                          " match equally well (position:run of own symbols = " + runs + ")");
    return static_cast<unsigned long>(best + 1);
}

Expected<unsigned long> resolve_position(const KernelSymbols *table, std::string_view name,
                                         bool is_local,
                                         const std::vector<std::string> &object_symbols,
                                         std::string_view object_path)
{
    if (table)
        return table->position(name, object_symbols, object_path);
    if (!is_local)
        return 0UL; // a global name is unique in vmlinux: the linker saw to that
    return make_error("local symbol " + describe(name, object_path) +
                      " may have namesakes in other objects; telling which copy is meant "
                      "needs the target's symbol table: give --kallsyms (a copy of the "
                      "target's /proc/kallsyms) or --vmlinux");
}

} // namespace kpatch::symbols
