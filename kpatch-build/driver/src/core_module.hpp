// Step "core module": the core (kpatch.ko) built for the target kernel's own ABI, whose
// Module.symvers the patch module links against (licence: GPL-2.0-only).
#pragma once

#include <string>

#include "context.hpp"
#include "target.hpp"
#include "tree.hpp"

namespace kpatch::driver {

struct CoreModule {
    std::string dir;       // the cache entry (core/, include/, build.log)
    std::string ko;        // <dir>/core/kpatch.ko
    std::string symvers;   // its Module.symvers: the CRCs of kpatch_register_patch & co.
    bool reused = false;   // found in the cache
    bool overridden = false; // $KPATCH_CORE_SYMVERS named the symvers; nothing was built
};

// sha256 of the embedded core sources (paths and contents): part of the cache key, so a
// kpatch-build with other core sources builds its own core.
std::string core_sources_hash();

// The cache entry of the core for a target: <cache>/core/<release>/<package version or
// "custom">-<hash of the tree key and the core sources> (the newest three of a release
// are kept). The tree key covers the source, config and .kernelvariables, which decide
// every CRC the core exports.
std::string core_cache_dir(const std::string &cache_dir, const Target &target,
                           const PreparedTree &tree, const std::string &sources_hash);

// Finds the core for the target in the cache or builds it there from the embedded
// sources in the prepared tree (`make M=...`, as for any out-of-tree module: kbuild
// writes only under M). $KPATCH_CORE_SYMVERS, when set, names the Module.symvers to
// link against instead (nothing is built; ko stays empty). Errors when the build fails
// or leaves no Module.symvers exporting kpatch_register_patch: a patch linked without it
// has no CRC for the symbol and the kernel refuses it.
Expected<CoreModule> core_module(const Context &ctx, const Target &target, const PreparedTree &tree);

} // namespace kpatch::driver
