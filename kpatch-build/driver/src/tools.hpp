// Finding the helper programs kpatch-build runs (the differ and the klp converter) and
// the core module's files it builds against (licence: GPL-2.0-only).
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

// Where `make -C kmod install` puts the core's files for patch-module builds.
inline constexpr const char *kInstalledKmodDir = "/usr/share/kpatch/kmod";

// The core module's Module.symvers (its exports: kpatch_register_patch, kpatch_shadow_*):
// $KPATCH_CORE_SYMVERS, <build>/kmod/Module.symvers, <build>/kmod/core/Module.symvers,
// <kInstalledKmodDir>/<release>/Module.symvers; empty when none exists.
std::string core_symvers(const std::string &release);

// The directory of kpatch-patch.h (and kpatch-shadow.h next to it), which a patch may
// include: the source tree's kmod/include/ when this program runs from the meson build
// tree, else kInstalledKmodDir; empty when neither has it.
std::string patch_header_dir();

} // namespace kpatch::driver
