// Step "prepare tree": one pristine, prepared kernel tree per release and config, kept in
// the cache (licence: GPL-2.0-only).
#pragma once

#include <string>
#include <vector>

#include "process.hpp"
#include "target.hpp"

namespace kpatch::driver {

struct PreparedTree {
    std::string path;        // the tree (read-only by convention: build in copies)
    std::string key;         // <release>-<hash of source, config, kernelvariables>
    std::string objects;     // cache of original objects built from this tree
    std::string config_hash; // sha256 of the config it was prepared with
    bool reused = false;
};

// Finds the prepared tree in the cache or makes it: unpack (or copy --sourcedir) into a
// temporary directory, install config/.kernelvariables/Module.symvers, `make olddefconfig
// modules_prepare`, check the release string, then rename into place. A killed run
// leaves only a temporary directory, removed by the next run.
Expected<PreparedTree> prepare_tree(const Context &ctx, const Target &target);

// Extra compiler flags of every object kpatch-build compiles: one section per function and
// per data object, so the differ can compare and take them one by one.
inline constexpr const char *kBuildKcflags = "-ffunction-sections -fdata-sections";

// The options that `make olddefconfig` changed: every CONFIG_ option set in `wanted` (the
// target's config text) whose value in `got` (the tree's) differs or is gone, as
// "CONFIG_X=old -> new" ("(not set)" when gone). A minimal input config is fine: options
// it does not set are not compared. Empty when the tree builds what the target runs.
std::vector<std::string> config_drift(const std::string &wanted, const std::string &got);

// The make command line every step uses in a tree (same CC and flags as the distro).
std::vector<std::string> make_argv(const Context &ctx, const std::string &tree, unsigned jobs);

// Runs make (with `extra` options) for `goals` in the work tree `work` of `tree`, logging
// to work + ".log", then proves it wrote nothing through a hard link into the prepared
// tree (if it did, the tree loses its mark and this is the error). A failed make is an
// Outcome for the caller to judge.
Expected<Outcome> make_in_work_tree(const Context &ctx, const PreparedTree &tree,
                                    const std::string &work, const std::vector<std::string> &goals,
                                    unsigned jobs, const std::vector<std::string> &extra = {});

} // namespace kpatch::driver
