// Keeping line numbers of unchanged code stable in patched sources (licence:
// GPL-2.0-only).
#pragma once

#include <string>
#include <vector>

#include <kpatch/expected.hpp>

namespace kpatch::driver {

// One changed region from `diff -U0 ORIG PATCHED`: after it, patched line `patched_next`
// is original line `orig_next`.
struct Resync {
    unsigned patched_next;
    unsigned orig_next;
};

// Parses `diff -U0` output into the lines where numbering must be resynchronised.
std::vector<Resync> parse_resyncs(const std::string &diff_u0);

// Inserts `#line N` before each resync point of `patched` (the text of the patched
// file) so that every line after a changed region keeps the number it had in the
// original file, as the kernel's klp-build does (Linux 6.19). Without it, a patch that
// adds one line moves __LINE__ in every function below (WARN/BUG tables, printk
// arguments) and the differ would see them all as changed. `#line N` without a file
// name keeps the file name the compiler already uses. A directive cannot go inside a
// comment or right after a line continuation, so it moves down to the next line
// where it is valid (both numberings advance together there).
std::string insert_line_directives(const std::string &patched, const std::vector<Resync> &at);

// Rewrites `patched_file` (a private copy, never a hard link) with directives computed
// against `orig_file`. Unchanged files are left alone.
Expected<void> stabilise_line_numbers(const std::string &orig_file, const std::string &patched_file);

} // namespace kpatch::driver
