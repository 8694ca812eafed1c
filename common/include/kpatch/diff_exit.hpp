// create-diff-object's exit codes: its contract with kpatch-build (licence: GPL-2.0-only).
// The differ's main() returns these and kpatch-build's "diff objects" step switches on them;
// doc/interfaces.md documents them and test/unit/diff/cli-test.sh checks the numbers.
#pragma once

namespace kpatch::diff_exit {

inline constexpr int kChanged = 0;    // functions changed: the output object was written
inline constexpr int kError = 1;      // it could not diff (bad input, I/O, a name it cannot resolve)
inline constexpr int kRefused = 2;    // a change it cannot patch safely (the manifest says why)
inline constexpr int kUnchanged = 3;  // nothing to patch in this object

} // namespace kpatch::diff_exit
