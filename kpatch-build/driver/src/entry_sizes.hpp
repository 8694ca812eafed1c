// The kernel tree's own sizes of special-section entries (licence: GPL-2.0-only).
#pragma once

#include <string>

#include "context.hpp"
#include "tree.hpp"

namespace kpatch::driver {

// Measures, with the tree's own compiler and headers, the structs behind the kernel's
// per-instruction tables (bug_entry, alt_instr, jump_entry, exception_table_entry,
// paravirt_patch_site, static_call_site, orc_entry) and returns the path of a JSON
// object {section: bytes} for the differ's --entry-sizes. One small object per struct,
// built with `make -k` in a work tree of `tree`: a struct this kernel version lacks (or
// compiles out) is simply absent. The result is kept in the tree's object cache, so a
// tree is measured once. `work` is the run's scratch directory.
Expected<std::string> kernel_entry_sizes(const Context &ctx, const PreparedTree &tree,
                                         const std::string &work);

} // namespace kpatch::driver
