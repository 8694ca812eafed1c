// Keeps kpatchd's loads in installation order: an older patch never lands on a newer one (licence: GPL-2.0-only).
//
// The core stacks patches by the time they register: of two enabled patches of one function
// the later one runs. At boot kpatchd loads in installation order, so that is the same
// thing. But a patch that failed at boot and is loaded later (`systemctl reload kpatchd`)
// would register after newer installed patches and, for a function both replace, silently
// undo the newer fix. Unloading the newer ones to load in order would open a window without
// their fixes and could fail half way, so the older patch is refused instead, with the
// names of the patches in its way and what to run; patches that replace other functions
// do not stack on it and do not stop it.
#include "install_order.hpp"

#include <kpatch/loader/module_file.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <set>
#include <tuple>

namespace kpatch::loader::detail {

namespace {

using FunctionKey = std::tuple<std::string, std::string, unsigned long>;  // object, name, sympos

// The functions an installed patch replaces, from its manifest; nullopt when unknown.
std::optional<std::set<FunctionKey>> replaced_by(const InstalledPatch &p)
{
    auto info = read_module_info(p.path);
    if (!info || !info->has_manifest)
        return std::nullopt;
    std::set<FunctionKey> out;
    for (const auto &f : info->replaced)
        out.emplace(f.object, f.name, f.sympos);
    return out;
}

std::string join_functions(const std::set<FunctionKey> &fns)
{
    std::string out;
    size_t shown = 0;
    for (const auto &[object, name, sympos] : fns) {
        if (shown++ == 3) {
            out += fmt::format(" and {} more", fns.size() - 3);
            break;
        }
        out += (out.empty() ? "" : ", ") + name + (sympos ? fmt::format(",{}", sympos) : "");
    }
    return out;
}

} // namespace

std::vector<std::string> order_after_install(const std::vector<std::string> &order, const std::string &name,
                                             bool replace, std::vector<std::string> &removed)
{
    auto at = std::find(order.begin(), order.end(), name);
    if (!replace) {
        std::vector<std::string> out = order;
        if (at == order.end())
            out.push_back(name);
        return out;
    }
    // Those installed after a reinstalled cumulative patch stay after it, as at boot.
    std::vector<std::string> out{name};
    if (at != order.end())
        out.insert(out.end(), at + 1, order.end());
    removed.assign(order.begin(), at);
    return out;
}

size_t boot_start(const std::vector<bool> &is_replace)
{
    for (size_t i = is_replace.size(); i-- > 0;)
        if (is_replace[i])
            return i;
    return 0;
}

std::optional<std::string> order_conflict(const std::vector<InstalledPatch> &installed, size_t index,
                                          const std::vector<bool> &loaded_before)
{
    const InstalledPatch &p = installed[index];
    auto mine = replaced_by(p);
    std::vector<std::string> blockers;
    std::set<FunctionKey> shared;
    for (size_t i = index + 1; i < installed.size(); ++i) {
        if (!loaded_before[i])
            continue;
        auto theirs = replaced_by(installed[i]);
        bool overlap = !mine || !theirs;  // unknown functions: assume they overlap
        if (mine && theirs)
            for (const auto &f : *mine)
                if (theirs->count(f)) {
                    overlap = true;
                    shared.insert(f);
                }
        if (overlap)
            blockers.push_back(installed[i].name);
    }
    if (blockers.empty())
        return std::nullopt;
    std::string names;
    for (const auto &b : blockers)
        names += (names.empty() ? "'" : ", '") + b + "'";
    std::string what = shared.empty() ? "may replace the same functions (a manifest is missing)"
                                      : "replace" + std::string(blockers.size() == 1 ? "s" : "") + " the same function" +
                                            (shared.size() == 1 ? " " : "s ") + join_functions(shared);
    return fmt::format("Failed to load '{}': it was installed before {}, which {} and {} loaded; loading it now "
                       "would put the older patch on top and undo the newer fix. Unload {} ('kpatchctl unload NAME'), "
                       "then 'systemctl reload kpatchd' loads them in installation order",
                       p.name, names, what, blockers.size() == 1 ? "is" : "are", blockers.size() == 1 ? "it" : "them");
}

} // namespace kpatch::loader::detail
