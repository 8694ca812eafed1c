// DWARF line tables of both objects, to tell a moved line number from a real change (licence: GPL-2.0-only).
//
// Read through the objects' DebugInfo (libdwfl applies the relocations of a relocatable
// object to its DWARF and gives each section an address); every line-table row is mapped
// back to (section index, offset). Loaded only when a comparison needs it.
#include <elfutils/libdwfl.h>
#include <fcntl.h>
#include <unistd.h>

#include "diff/passes.hpp"

namespace kpatch::diff {

namespace {

// Rows of one object: section index -> (offset -> lines at that offset).
using Rows = std::unordered_map<size_t, std::multimap<uint64_t, int64_t>>;

Rows load_rows(DebugInfo &debug)
{
    Rows rows;
    Dwfl_Module *mod = debug.module();
    if (!mod)
        return rows;
    Dwarf_Addr bias = 0;
    Dwarf_Die *cu = nullptr;
    while ((cu = dwfl_module_nextcu(mod, cu, &bias))) {
        Dwarf_Lines *lines;
        size_t n;
        if (dwarf_getsrclines(cu, &lines, &n) != 0)
            continue;
        for (size_t i = 0; i < n; i++) {
            Dwarf_Line *l = dwarf_onesrcline(lines, i);
            Dwarf_Addr addr;
            int line;
            if (dwarf_lineaddr(l, &addr) != 0 || dwarf_lineno(l, &line) != 0)
                continue;
            Dwarf_Addr a = addr + bias;
            int base = dwfl_module_relocate_address(mod, &a);
            Elf32_Word shndx = 0;
            if (base < 0 || !dwfl_module_relocation_info(mod, static_cast<unsigned>(base), &shndx))
                continue;
            rows[shndx].emplace(a, line);
        }
    }
    return rows;
}

} // namespace

struct LineTables::Impl {
    Impl(DebugInfo &o, DebugInfo &p) : orig_debug(o), patched_debug(p) {}
    DebugInfo &orig_debug, &patched_debug;
    bool loaded = false;
    Rows orig, patched;
};

LineTables::LineTables(DebugInfo &orig, DebugInfo &patched) : impl_(std::make_unique<Impl>(orig, patched)) {}

LineTables::~LineTables() = default;

/*
 * LINE-SHIFT ROBUSTNESS. A patch that adds a line above a function moves every __LINE__
 * below it: WARN/BUG entries in __bug_table carry the line, and some calls pass it as an
 * immediate (ext4_error(), __might_sleep(), ...). Such a function differs from its twin only
 * in those numbers; it must not count as changed.
 *
 * The rule: two twin sections whose instructions are the same except for some immediate
 * operands (checked by arch::immediate_changes) or some bug-table line fields differ only
 * in line numbers when, for every such pair of numbers (o, p), the compiler's own line
 * table shows line o of the original becoming line p of the patched object AT THE SAME
 * CODE OFFSET: some instruction at offset x of the original section has line o and the
 * instruction at offset x of the patched section has line p. Since the code is otherwise
 * identical, equal offsets are the same statement, so (o, p) is exactly how that
 * statement moved. A constant that really changed (a buffer size of 128 that became 256)
 * is not the line of any statement of the function whose twin carries the new value, so
 * it still counts as a change. Without DWARF (available() is false) the rule never
 * applies; line_calls.cpp then recognises line numbers from the code instead.
 *
 * This complements, and does not need, the source-level #line approach of klp-build that
 * the kpatch-build driver may use: with #line in place no numbers move at all.
 */
void LineTables::load()
{
    if (!impl_->loaded) {
        impl_->loaded = true;
        impl_->orig = load_rows(impl_->orig_debug);
        impl_->patched = load_rows(impl_->patched_debug);
    }
}

bool LineTables::available()
{
    load();
    return !impl_->orig.empty() && !impl_->patched.empty();
}

bool LineTables::is_line_shift(const Section &orig, const Section &patched, int64_t orig_line,
                               int64_t patched_line)
{
    if (orig_line == patched_line)
        return true;
    load();
    auto o = impl_->orig.find(orig.original_index);
    auto p = impl_->patched.find(patched.original_index);
    if (o == impl_->orig.end() || p == impl_->patched.end())
        return false;
    for (auto &[offset, line] : o->second) {
        if (line != orig_line)
            continue;
        auto range = p->second.equal_range(offset);
        for (auto it = range.first; it != range.second; ++it)
            if (it->second == patched_line)
                return true;
    }
    return false;
}

} // namespace kpatch::diff
