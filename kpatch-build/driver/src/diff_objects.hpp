// Step "diff objects": create-diff-object on every original/patched pair (licence:
// GPL-2.0-only).
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "build_objects.hpp"
#include "target.hpp"
#include "tree.hpp"

namespace kpatch::driver {

struct DiffOutput {
    std::string object;       // tree-relative object it came from
    std::string output;       // the patch object
    nlohmann::json manifest;  // create-diff-object --json
    std::string module;       // the module the object is part of, empty for vmlinux
};

struct SymbolSource {
    std::string option;       // "--kallsyms" / "--vmlinux", empty when none
    std::string path;
};

// Exit 0 of the differ keeps the object, 3 drops it (unchanged), 2 collects the refusal
// (every object is still compared, so one run names every problem) and 1 stops. No
// changed object at all is kExitNoChange; any refusal is kExitUnsupported. When the
// differ needs a module's objects in link order (a name the module has several times),
// they are built from `tree` (see module_objects.hpp) and the differ runs again.
// `core_symvers` is the core's Module.symvers for this target (its exports stay plain
// undefined symbols).
Expected<std::vector<DiffOutput>> diff_objects(const Context &ctx, const Target &target,
                                               const PreparedTree &tree,
                                               const std::string &core_symvers,
                                               const std::vector<ObjectPair> &pairs,
                                               const SymbolSource &symbols,
                                               const std::string &out_dir);

} // namespace kpatch::driver
