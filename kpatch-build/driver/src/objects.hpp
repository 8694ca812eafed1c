// Step "find objects": the vmlinux objects whose code the patches may change (licence:
// GPL-2.0-only).
#pragma once

#include <string>
#include <vector>

#include "context.hpp"
#include "patchset.hpp"
#include "tree.hpp"

namespace kpatch::driver {

// For a changed .c or .S file its object; for a header (or a .c file that another .c
// includes) every object built from a file that includes it, directly or through other
// headers (IncludeIndex), kept when the config links it into vmlinux (KbuildConfig).
// Objects of modules are named in a note and left out. Documentation changes are
// ignored; a change to build rules (Makefile, Kconfig) or a new source file is refused
// (exit 2).
Expected<std::vector<std::string>> find_objects(const Context &ctx, const PreparedTree &tree,
                                                const PatchSet &patches);

// A changed file that no object is built from (Documentation/, tools/, *.rst, ...).
bool is_documentation(const std::string &file);

} // namespace kpatch::driver
