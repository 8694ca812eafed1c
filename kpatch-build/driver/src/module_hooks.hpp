// The patch's hooks (kmod/include/kpatch-patch.h) in the generated patch module: which
// hooks the differ's objects carry, and the glue that calls them from the module's
// struct kpatch_patch_desc (licence: GPL-2.0-only).
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "diff_objects.hpp"

namespace kpatch::driver {

struct PatchHook {
    std::string kind;      // pre_patch, post_patch, pre_unpatch or post_unpatch
    std::string function;  // the patch's function the section entry points to
    std::string object;    // tree-relative object it came from
    std::string module;    // the module that object is part of, empty for vmlinux
};

// The hooks in the differ's outputs (their `.kpatch.hooks.<kind>` sections: one pointer
// per KPATCH_*_HOOK), in kind order. More than one of a kind in the whole module, a
// kind kpatch.h does not have, or hooks in files of different kernel objects (vmlinux,
// modules: the hooks of a module's file run with that module's part, so they must agree)
// is an error (exit 1) naming the functions and objects.
Expected<std::vector<PatchHook>> find_hooks(const std::vector<DiffOutput> &diffs);

// For `.kpatch.manifest`: {"pre_patch": "function", ...}.
nlohmann::json hooks_manifest(const std::vector<PatchHook> &hooks);

// The module the hooks belong to (`kpatch_patch_desc.hooks_objname`, the manifest's
// "hooks_object"), empty when they belong to vmlinux, i.e. to the patch as a whole.
std::string hooks_module(const std::vector<PatchHook> &hooks);

// Generated C, from the manifest's "hooks" object (so the module source depends on the
// manifest only): a wrapper per hook that calls the patch's function through the
// pointer in its section (the patch's hooks take no argument, kpatch.h's take the
// desc), to put before the kpatch_patch_desc definition; and that definition's fields
// (with `hooks_objname` when @module, the manifest's "hooks_object", is not empty).
std::string hooks_wrappers(const nlohmann::json &hooks);
std::string hooks_fields(const nlohmann::json &hooks, const std::string &module);

// Linker-script lines, inside SECTIONS, that bracket each kind's section with
// __kpatch_hooks_<kind> (the wrappers read entry 0).
extern const char kHooksLinkerScript[];

} // namespace kpatch::driver
