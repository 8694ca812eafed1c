// The --json manifest: what a run found, as data for kpatch-build and for people (licence: GPL-2.0-only).
#include <nlohmann/json.hpp>

#include <kpatch/json_dump.hpp>

#include "diff/diff.hpp"

namespace kpatch::diff {

std::string manifest_json(const DiffResult &r, const Options &options, bool pretty)
{
    using nlohmann::json;
    json j;
    j["object"] = options.object_path;
    j["outcome"] = r.outcome == Outcome::Changed ? "changed"
                   : r.outcome == Outcome::Refused ? "refused" : "unchanged";
    j["exit_code"] = static_cast<int>(r.outcome);
    j["klp_object"] = options.klp_object;
    json changed = json::array();
    for (auto &c : r.changed)
        changed.push_back({{"name", c.name}, {"old_name", c.old_name}, {"object", c.object}, {"sympos", c.sympos},
                           {"old_size", c.old_size}, {"new_size", c.new_size}, {"old_aliases", c.old_aliases}});
    j["changed_functions"] = changed;
    j["new_functions"] = r.new_functions;
    // New data lives in the patch module: the running kernel has no copy of it, and the
    // patched code starts from the patch's initial value when the module loads.
    json new_data = json::array();
    for (auto &d : r.new_data)
        new_data.push_back({{"name", d}, {"lives_in", "patch module"},
                            {"note", "new data: allocated and initialized by the patch module at "
                                     "load; the running kernel has no copy of it"}});
    j["new_data"] = new_data;
    j["line_shift_only"] = r.line_shift_only;
    json klp = json::array();
    for (auto &k : r.klp)
        klp.push_back({{"section", k.section}, {"offset", k.offset}, {"type", k.type},
                       {"symbol", k.symbol}, {"sympos", k.sympos}, {"addend", k.addend},
                       {"object", k.object}});
    j["klp_relocations"] = klp;
    j["undefined_exported"] = r.undefined;
    // Defined by another object of the same patch; linked inside the patch module.
    j["from_patch"] = r.from_patch;
    j["ignored"] = r.ignored;
    j["no_stack_check"] = r.unsafe;
    j["special_entries"] = r.special_entries;
    j["refusals"] = r.refusals;
    j["warnings"] = r.warnings;
    json reviewed = json::array();
    for (auto &e : r.reviewed)
        reviewed.push_back({{"function", e.function}, {"reason", e.reason}, {"waived", e.waived}});
    j["reviewed"] = reviewed;
    return json_dump(j, pretty ? 2 : -1) + "\n";
}

} // namespace kpatch::diff
