// Step "build objects": every object the patch touches, original and patched, with one
// section per function (licence: GPL-2.0-only).
#pragma once

#include <string>
#include <vector>

#include "context.hpp"
#include "tree.hpp"

namespace kpatch::driver {

struct ObjectPair {
    std::string object;   // tree-relative, e.g. fs/proc/cmdline.o
    std::string orig;     // path of the original build
    std::string patched;  // path of the patched build
    std::string module;   // the module it is part of ("ext4"), empty for vmlinux
};

struct BuildStats {
    size_t orig_built = 0;   // original objects compiled this run
    size_t orig_cached = 0;  // original objects taken from the cache
};

// Compiles the patched objects in `patched_tree`, and the original ones that the cache
// does not hold yet in a second work copy at `orig_tree`, both makes at once with the
// jobs split between them. Original objects depend only on the prepared tree, so they
// are kept in the cache (PreparedTree::objects) for later runs. Afterwards, proves that
// no make wrote through a hard link into the prepared tree. Each pair says which module
// (if any) kbuild built its object for.
Expected<std::vector<ObjectPair>> build_objects(const Context &ctx, const PreparedTree &tree,
                                                const std::string &orig_tree,
                                                const std::string &patched_tree,
                                                const std::vector<std::string> &objects,
                                                const std::string &log_dir, BuildStats &stats);

// Copies a built original into the object cache (PreparedTree::objects) with a rename, so
// a reader never sees half a file. Best effort: a copy that fails is built again next run.
void store_in_cache(const std::string &from, const std::string &to);

} // namespace kpatch::driver
