// Step "diff objects", first pass: the new globals each patched object brings (licence:
// GPL-2.0-only).
#include "patch_symbols.hpp"

#include <elf.h>

#include "elf/object.hpp"

namespace kpatch::driver {

namespace {

// Where the differ carries a new symbol from (diff/compare.cpp: new functions outside
// __init/__exit, new global variables in ordinary data sections).
bool carried(const elf::Symbol &s)
{
    if (!s.is_defined() || (s.bind != STB_GLOBAL && s.bind != STB_WEAK) || !s.section)
        return false;
    const std::string &sec = s.section->name;
    if (s.is_function())
        return !sec.starts_with(".init.") && !sec.starts_with(".exit.");
    if (!s.is_object() || sec.starts_with(".data..percpu"))
        return false;
    return sec.starts_with(".data") || sec.starts_with(".bss") || sec.starts_with(".rodata");
}

} // namespace

Expected<std::vector<std::string>> new_globals(const ObjectPair &pair)
{
    auto orig = elf::read_object(pair.orig);
    if (!orig)
        return orig.error();
    auto patched = elf::read_object(pair.patched);
    if (!patched)
        return patched.error();
    std::set<std::string> had;
    for (const auto &s : (*orig)->symbols)
        if (s->is_defined())
            had.insert(s->name);
    std::vector<std::string> out;
    for (const auto &s : (*patched)->symbols)
        if (carried(*s) && !had.count(s->name))
            out.push_back(s->name);
    return out;
}

Expected<std::set<std::string>> patch_symbols(const std::vector<ObjectPair> &pairs)
{
    std::set<std::string> names;
    for (const auto &pair : pairs) {
        auto list = new_globals(pair);
        if (!list)
            return list.error().in(pair.object);
        names.insert(list->begin(), list->end());
    }
    return names;
}

} // namespace kpatch::driver
