// Moved line numbers told from the code, for objects without DWARF (licence: GPL-2.0-only).
//
// A patch that adds a line above a function moves every __LINE__ below it. With DWARF the
// line table shows how each statement moved (lines.cpp). Objects built or shipped without
// debug info (`strip --strip-debug`, distributions' kernels without -g) have no line
// table; there a number counts as a line only where nothing else can be meant:
//   - the line field of a __bug_table entry (WARN/BUG): the entry holds nothing else that
//     moved, the rest is compared as usual;
//   - an immediate loaded into the argument register of a call to a function whose
//     parameter at that position is a source line (__might_sleep(file, line),
//     warn_slowpath_fmt(file, line, ...), __ext4_error(sb, func, line, ...), ...), with no
//     branch and no other write of that register between the load and the call.
// Any other immediate that changed is a change (a size, a flag, a line handed to a function
// not listed here: a patch that only moves such a function's lines replaces it, which is
// safe). Both numbers must be plausible lines (1 to 2^20, the width dynamic debug gives
// them), so a flag or a size that happens to reach such a parameter is not taken for one.
#include <string_view>

#include "diff/passes.hpp"

namespace kpatch::diff {
namespace {

struct LineParameter {
    std::string_view function;
    unsigned argument;   // 0 = first
};

// Kernel functions (3.10 to 6.x) that take __LINE__ as a parameter, and which parameter.
constexpr LineParameter line_parameters[] = {
    // might_sleep(), might_fault(), cant_sleep() and friends (CONFIG_DEBUG_ATOMIC_SLEEP)
    {"__might_sleep", 1}, {"___might_sleep", 1}, {"__might_resched", 1}, {"__might_fault", 1},
    {"__cant_sleep", 1}, {"__cant_migrate", 1},
    // WARN() before __bug_table carried it (up to 4.x), and lockdep's RCU splat
    {"warn_slowpath_fmt", 1}, {"warn_slowpath_null", 1}, {"warn_slowpath_fmt_taint", 1}, {"__warn", 1},
    {"lockdep_rcu_suspicious", 1},
    // ext4's error and journal helpers (ext4_error(), ext4_journal_start(), ...)
    {"__ext4_error", 2}, {"__ext4_error_inode", 2}, {"__ext4_error_file", 2}, {"__ext4_std_error", 2},
    {"__ext4_warning", 2}, {"__ext4_warning_inode", 2}, {"__ext4_abort", 2}, {"__ext4_grp_locked_error", 1},
    {"__ext4_journal_get_write_access", 1}, {"__ext4_journal_get_create_access", 1}, {"__ext4_forget", 1},
    {"__ext4_handle_dirty_metadata", 1}, {"__ext4_journal_stop", 1}, {"__ext4_ext_dirty", 1},
    {"__ext4_journal_start_sb", 2}, {"__ext4_mark_inode_dirty", 3},
    // btrfs and xfs
    {"__btrfs_handle_fs_error", 2}, {"__btrfs_abort_transaction", 2}, {"__btrfs_panic", 2},
    {"btrfs_assertfail", 2}, {"assfail", 3}, {"asswarn", 3}, {"xfs_error_report", 4},
    {"__jbd2_debug", 3},
};

bool plausible_line(int64_t n) { return n > 0 && n < (int64_t{1} << 20); }

// The function called by the call at `call` (offsets from the start of `p`), if the
// object names it.
const Symbol *callee(CodeIndex &code, const Symbol &p, const arch::CallArgument &call)
{
    if (!p.section || !p.section->relocations)
        return nullptr;
    uint64_t from = p.value + call.call_offset, to = from + call.call_size;
    for (auto &r : p.section->relocations->entries) {
        if (r.offset < from || r.offset >= to)
            continue;
        Referent ref = code.resolve(*p.section, r);
        return ref.kind == Referent::Kind::Symbol ? ref.symbol : nullptr;
    }
    return nullptr;
}

} // namespace

bool is_moved_line(LineTables &lines, CodeIndex &code_p, const Symbol &o, const Symbol &p,
                   const std::vector<uint8_t> &code, const arch::ImmediateChange &c)
{
    if (lines.is_line_shift(*o.section, *p.section, c.original, c.patched))
        return true;
    if (lines.available() || !plausible_line(c.original) || !plausible_line(c.patched))
        return false;
    auto call = code_p.arch().immediate_argument(code.data(), code.size(), c.offset);
    if (!call)
        return false;
    const Symbol *f = callee(code_p, p, *call);
    if (!f)
        return false;
    for (auto &lp : line_parameters)
        if (lp.function == f->name)
            return lp.argument == call->argument;
    return false;
}

bool is_moved_bug_line(LineTables &lines, const Symbol &o, const Symbol &p, int64_t o_line, int64_t p_line)
{
    if (lines.is_line_shift(*o.section, *p.section, o_line, p_line))
        return true;
    return !lines.available() && plausible_line(o_line) && plausible_line(p_line);
}

} // namespace kpatch::diff
