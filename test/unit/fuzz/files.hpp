// Files in odd states for the loader fuzzer: missing, symlinked, special, huge, untrusted (licence: GPL-2.0-only).
#pragma once

#include "rng.hpp"

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <string_view>

namespace kpatch::fuzz {

namespace fs = std::filesystem;

// CONTENT at PATH with MODE (parents created).
void write_file(const fs::path &path, std::string_view content, mode_t mode = 0644);

// Replaces whatever is at PATH (a file, a directory, or nothing) with something a damaged or
// tampered tree may hold there: nothing, a directory, a FIFO, a symlink (to /dev/zero, to
// itself, to a copy under OUTSIDE, dangling), a huge sparse file, a file of the wrong mode or
// owner. Never anything whose use could write outside the fuzzer's own tree.
void make_odd(const fs::path &path, const fs::path &outside, Rng &rng, std::string &what);

} // namespace kpatch::fuzz
