// A module's objects in kbuild's link order, built as originals, for the differ to tell
// apart the copies of a name the module has several times (licence: GPL-2.0-only).
#pragma once

#include <string>

#include "context.hpp"
#include "tree.hpp"

namespace kpatch::driver {

// Writes `list_file` for create-diff-object --module-objects: one "OBJECT<TAB>PATH" line
// per object of the module that kbuild builds at `kbuild_path` ("fs/minix/minix"), in the
// order of its <module>.mod (the order `ld -r` links them), PATH an original build of
// OBJECT. The .mod list and the objects come from the object cache when it has them;
// otherwise they are made in a work tree at `work` (created here) and cached. Only needed
// when the differ asks: a module's name that is not duplicated needs none of this.
Expected<void> write_module_objects(const Context &ctx, const PreparedTree &tree,
                                    const std::string &kbuild_path, const std::string &work,
                                    const std::string &list_file);

} // namespace kpatch::driver
