// The markers of kpatch-macros.h: KPATCH_IGNORE_FUNCTION, KPATCH_IGNORE_SECTION and
// KPATCH_FORCE_UNSAFE (licence: GPL-2.0-only).
//
// A patch written for kpatch marks functions that change only as a side effect of another
// change (a WARN's line number, an inlined helper whose caller is the real fix) or sections
// that do not follow -ffunction-sections. The macros put NUL-terminated names into
// .kpatch.ignore.functions and .kpatch.ignore.sections of the patched object. compare()
// then treats a covered function or variable as unchanged: it is not replaced, its changes
// refuse nothing, and copied code refers to the kernel's copy. KPATCH_FORCE_UNSAFE names go
// into .kpatch.force: the .kpatch.funcs entry of such a replaced function carries
// KPATCH_FUNC_NO_STACK_CHECK, which the core honours. Nothing refers to these sections, so
// they are never copied to the output.
#include <algorithm>
#include <cctype>
#include <elf.h>

#include "diff/passes.hpp"

namespace kpatch::diff {
namespace {

constexpr std::string_view functions_section = ".kpatch.ignore.functions";
constexpr std::string_view sections_section = ".kpatch.ignore.sections";
constexpr std::string_view unsafe_section = ".kpatch.force";

// The NUL-terminated strings of `s`; NUL bytes where an entry would start are padding.
Expected<std::vector<std::string>> strings_of(const Section &s, const Object &patched)
{
    auto bad = [&](const std::string &why) {
        return Error{"section " + s.name + " is malformed (" + why + "); it must hold only the "
                     "NUL-terminated names that kpatch-macros.h's KPATCH_IGNORE_FUNCTION, "
                     "KPATCH_IGNORE_SECTION and KPATCH_FORCE_UNSAFE put there"}
            .in(patched.path);
    };
    if (s.type == SHT_NOBITS)
        return bad("it has no contents");
    if (s.relocations && !s.relocations->entries.empty())
        return bad("it has relocations: names must be string literals, not pointers");
    std::string_view data(reinterpret_cast<const char *>(s.data.data()), s.data.size());
    std::vector<std::string> out;
    for (size_t at = 0; at < data.size();) {
        if (data[at] == '\0') {
            at++;
            continue;
        }
        size_t end = data.find('\0', at);
        if (end == std::string_view::npos)
            return bad("an entry at offset " + std::to_string(at) + " is not NUL-terminated");
        std::string_view name = data.substr(at, end - at);
        if (std::any_of(name.begin(), name.end(),
                        [](char c) { return !std::isgraph(static_cast<unsigned char>(c)); }))
            return bad("the entry at offset " + std::to_string(at) + " is not a name");
        out.emplace_back(name);
        at = end + 1;
    }
    return out;
}

} // namespace

bool Markers::covers(const Symbol &s) const
{
    if (s.section && sections.count(s.section->name))
        return true;
    return s.is_function() && functions.count(source_name(s.name));
}

bool Markers::is_unsafe(const Symbol &s) const
{
    return s.is_function() && unsafe.count(source_name(s.name));
}

Expected<Markers> read_markers(const Object &patched)
{
    Markers m;
    for (auto &sp : patched.sections) {
        std::set<std::string, std::less<>> *into = sp->name == functions_section ? &m.functions
                                                   : sp->name == sections_section ? &m.sections
                                                   : sp->name == unsafe_section   ? &m.unsafe
                                                                                  : nullptr;
        if (!into)
            continue;
        auto names = strings_of(*sp, patched);
        if (!names)
            return names.error();
        into->insert(names->begin(), names->end());
    }
    return m;
}

MarkerReport report_markers(const Markers &ig, const Object &patched, const Comparison &cmp)
{
    MarkerReport result;
    for (auto &name : cmp.ignored)
        result.warnings.push_back("`" + name + "` changed, but the patch ignores it (KPATCH_IGNORE_FUNCTION "
                                  "or KPATCH_IGNORE_SECTION): the kernel's version stays");
    result.ignored = cmp.ignored;
    for (auto &f : ig.functions) {
        bool found = std::any_of(patched.symbols.begin(), patched.symbols.end(), [&](auto &s) {
            return s->is_defined() && s->is_function() && source_name(s->name) == f;
        });
        if (!found)
            result.warnings.push_back("KPATCH_IGNORE_FUNCTION(" + f + ") names no function of this "
                                      "object (a stale or misspelt entry?)");
    }
    for (auto &f : ig.unsafe) {
        bool replaced = std::any_of(cmp.changed_functions.begin(), cmp.changed_functions.end(), [&](const Symbol *s) {
            return cmp.aliases.any_name(*s, [&](const Symbol &n) { return source_name(n.name) == f; });
        });
        if (replaced) {
            result.unsafe.push_back(f);
            result.warnings.push_back("`" + f + "` skips the stack check when it is switched "
                                      "(KPATCH_FORCE_UNSAFE): old and new code may run at once");
        } else {
            result.warnings.push_back("KPATCH_FORCE_UNSAFE(" + f + ") names no replaced function of "
                                      "this object (a stale or misspelt entry?)");
        }
    }
    for (auto &name : ig.sections)
        if (!patched.find_section(name))
            result.warnings.push_back("KPATCH_IGNORE_SECTION(\"" + name + "\") names no section of "
                                      "this object (a stale or misspelt entry?)");
    return result;
}

} // namespace kpatch::diff
