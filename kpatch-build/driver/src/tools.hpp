// Finding the helper programs kpatch-build runs: the differ and the klp converter
// (licence: GPL-2.0-only).
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

} // namespace kpatch::driver
