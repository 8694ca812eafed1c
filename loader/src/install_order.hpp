// Installation order versus load order for kpatchd's passes (licence: GPL-2.0-only).
#pragma once

#include <kpatch/loader/store.hpp>

#include <optional>
#include <string>
#include <vector>

namespace kpatch::loader::detail {

// Why INSTALLED[INDEX] must not be loaded now: a patch installed after it is already loaded
// (LOADED_BEFORE[i]) and replaces one of the same functions (or either manifest is missing),
// so the core would stack the older patch on top. nullopt when loading it is safe.
// The store's order after installing NAME: appended when new, a reinstall keeps its place.
// A cumulative patch (REPLACE) also drops every patch installed before it, in the same
// order file write that adds it, so a crash leaves either the old set or the new patch
// installed; the dropped names go to REMOVED.
std::vector<std::string> order_after_install(const std::vector<std::string> &order, const std::string &name,
                                             bool replace, std::vector<std::string> &removed);

// Where kpatchd's boot pass starts in the installed list: at the newest cumulative patch
// (IS_REPLACE[i]), which replaces everything before it; 0 when there is none.
size_t boot_start(const std::vector<bool> &is_replace);

std::optional<std::string> order_conflict(const std::vector<InstalledPatch> &installed, size_t index,
                                          const std::vector<bool> &loaded_before);

} // namespace kpatch::loader::detail
