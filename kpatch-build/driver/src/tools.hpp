// Finding the helper programs kpatch-build runs (the differ and the klp converter) and
// the patch-author headers (licence: GPL-2.0-only).
#pragma once

#include <string>

#include <kpatch/expected.hpp>

namespace kpatch::driver {

// `name` (e.g. "create-diff-object") from, in order: $ENV_VAR; the meson build tree
// next to this program (<build>/kpatch-build/<subdir>/<name>); <prefix>/libexec/kpatch/;
// this program's directory; $PATH.
Expected<std::string> find_tool(const std::string &name, const std::string &subdir,
                                const char *env_var);

// The directory of the running program.
std::string program_dir();

// Where `make -C kmod install` puts the headers a patch may include.
inline constexpr const char *kInstalledKmodDir = "/usr/share/kpatch/kmod";

// The directory of kpatch-patch.h (and kpatch-shadow.h next to it), which a patch may
// include: the source tree's kmod/include/ when this program runs from the meson build
// tree, else kInstalledKmodDir; empty when neither has it.
std::string patch_header_dir();

} // namespace kpatch::driver
