// Steps "link module", "convert klp relocations", "sign": the patch module from the
// differ's objects, through the target's kbuild (licence: GPL-2.0-only).
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "diff_objects.hpp"
#include "kernel_id.hpp"
#include "patchset.hpp"
#include "tree.hpp"

namespace kpatch::driver {

// "fix CVE-2024 1.patch" -> "kpatch-fix-cve-2024-1"-like: [A-Za-z0-9_-] only, at most
// 55 characters (the kernel's MODULE_NAME_LEN less the NUL).
std::string module_name_for(const std::string &requested, const std::string &first_patch);

// What the module records about itself: `.kpatch.manifest` (JSON) and modinfo. The
// format is in doc/interfaces.md.
nlohmann::json module_manifest(const std::string &name, const Target &target,
                               const KernelId &kernel, const PatchSet &patches,
                               const std::vector<DiffOutput> &diffs);

// The generated C source of the module (kp-main.c): the patch's struct kpatch_patch_desc
// `kpatch_patch` (name, hooks, flags), the manifest and modinfo. The fixed kp-init.c
// (kmod/patch/, kPatchInitSource) fills in its functions from the `.kpatch.funcs`
// entries (between the linker-script symbols __kpatch_funcs and __kpatch_funcs_end) and
// registers it with the core.
std::string module_source(const nlohmann::json &manifest);

// Writes the module directory (source, kpatch.h, Kbuild, linker script, the differ's
// objects), links it with `make M=` in `link_tree`, checks the vermagic, turns the
// recorded references into .klp.rela sections and signs when asked. Returns the .ko.
Expected<std::string> link_module(const Context &ctx, const Target &target,
                                  const std::string &core_symvers,
                                  const std::string &link_tree, const std::string &module_dir,
                                  const std::string &name, const nlohmann::json &manifest,
                                  const std::vector<DiffOutput> &diffs);

Expected<void> sign_module(const Context &ctx, const std::string &tree, const std::string &ko);

} // namespace kpatch::driver
