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
    size_t patched_direct = 0;   // patched objects compiled by a proven command, not make
    size_t commands_proven = 0;  // commands proven (and cached) this run
};

// Compiles the original objects that the cache does not hold yet in a work copy at
// `orig_tree` with make, then the patched objects in `patched_tree`: by the commands
// proven for them (object_command.hpp) when SOURCES_ONLY (the patch changes only .c, .h
// and .S files), else, and when a command fails, with make. Original objects and their
// proven commands depend only on the prepared tree, so they are kept in the cache
// (PreparedTree::objects) for later runs. After each make, proves that it wrote nothing
// through a hard link into the prepared tree. Each pair says which module (if any)
// kbuild built its object for.
Expected<std::vector<ObjectPair>> build_objects(const Context &ctx, const PreparedTree &tree,
                                                const std::string &orig_tree,
                                                const std::string &patched_tree,
                                                const std::vector<std::string> &objects,
                                                const std::string &log_dir, bool sources_only,
                                                BuildStats &stats);

// Builds the original OBJECTS (none cached yet) with one make in a work copy at
// ORIG_TREE and keeps them, with their proven commands, in the cache.
Expected<void> cache_originals(const Context &ctx, const PreparedTree &tree,
                               const std::string &orig_tree, const std::vector<std::string> &objects,
                               const std::string &log, BuildStats &stats);

// Copies a built original into the object cache (PreparedTree::objects) with a rename, so
// a reader never sees half a file. Best effort: a copy that fails is built again next run.
void store_in_cache(const std::string &from, const std::string &to);

} // namespace kpatch::driver
