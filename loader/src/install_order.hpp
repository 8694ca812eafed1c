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
std::optional<std::string> order_conflict(const std::vector<InstalledPatch> &installed, size_t index,
                                          const std::vector<bool> &loaded_before);

} // namespace kpatch::loader::detail
