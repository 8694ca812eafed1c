// JSON shapes of the loader's results; keys are part of kpatchctl's contract (licence: GPL-2.0-only).
#include <kpatch/loader/json.hpp>
#include <kpatch/json_field.hpp>

namespace kpatch::loader {

using nlohmann::json;

void to_json(json &j, const FunctionState &f)
{
    j = {{"object", f.object},     {"name", f.name},         {"sympos", f.sympos},
         {"old_addr", f.old_addr}, {"new_addr", f.new_addr}, {"active", f.active}};
}

void to_json(json &j, const ObjectState &o)
{
    j = {{"name", o.name}, {"state", o.state}};
}

void to_json(json &j, const LoadResult &r)
{
    j = {{"name", r.name}, {"path", r.path}, {"attempts", r.attempts}, {"core_loaded", r.core_loaded}, {"nudged", r.nudged},
         {"replaced", r.replaced}, {"unload_errors", r.unload_errors}};
}

void to_json(json &j, const UnloadResult &r)
{
    j = {{"unloaded", json::array()}};
    for (const auto &i : r.items)
        j["unloaded"].push_back({{"name", i.name}, {"ok", i.ok}, {"error", i.error}});
    if (r.error)
        j["error"] = r.error->message;
}

void to_json(json &j, const ListEntry &e)
{
    j = {{"name", e.name},
         {"state", to_string(e.state)},
         {"kernel_release", e.kernel_release},
         {"loaded", e.loaded},
         {"installed", e.installed},
         {"order", e.order},
         {"install_position", e.install_position},
         {"functions", e.functions},
         {"objects", e.objects},
         {"error", e.error},
         {"replace", e.replace},
         {"replaced_patches", e.replaced_patches},
         {"replaced_by", e.replaced_by}};
}

void to_json(json &j, const ListResult &r)
{
    j = {{"kernel_release", r.kernel_release}, {"core_loaded", r.core_loaded}, {"patches", r.patches}};
}

void to_json(json &j, const InstalledPatch &p)
{
    j = {{"name", p.name}, {"kernel_release", p.kernel_release}, {"path", p.path.string()}, {"position", p.position}};
}

void to_json(json &j, const InstallResult &r)
{
    j = r.patch;
    j["replaced"] = r.replaced;
    j["replaces"] = r.replaces;
}

void to_json(json &j, const ModuleInfo &m)
{
    json modinfo = json::object();
    for (const auto &[k, v] : m.modinfo)
        modinfo[k] = modinfo.contains(k) ? modinfo[k].get<std::string>() + "\n" + v : v;
    json replaced = json::array();
    for (const auto &f : m.replaced)
        replaced.push_back({{"name", f.name}, {"sympos", f.sympos}, {"object", f.object}});
    json reviewed = json::array();
    for (const auto &f : m.reviewed)
        reviewed.push_back({{"function", f.function}, {"reason", f.reason}, {"waived", f.waived},
                            {"source_object", f.source_object}});
    j = {{"path", m.path},
         {"name", m.name},
         {"vermagic", m.vermagic},
         {"kernel_release", m.has_manifest && !m.kernel_release.empty() ? m.kernel_release : m.release},
         {"build_id", m.build_id},
         {"patch_sha256", m.patch_hash},
         {"signed", m.is_signed},
         {"has_manifest", m.has_manifest},
         {"replace", m.replace},
         {"replaced", replaced},
         {"new", m.added},
         {"reviewed", reviewed},
         {"hooks", m.manifest.is_object() && m.manifest.value("hooks", json()).is_object()
                       ? m.manifest["hooks"] : json::object()},
         {"modinfo", modinfo}};
}

void to_json(json &j, const Check &c)
{
    j = {{"check", c.name}, {"result", to_string(c.result)}, {"detail", c.detail}};
}

void to_json(json &j, const VerifyResult &r)
{
    j = {{"path", r.module.path}, {"name", r.module.name}, {"kernel_release", r.kernel_release}, {"ok", r.ok()}, {"checks", r.checks}};
}

void to_json(json &j, const BootItem &b)
{
    j = {{"name", b.name}, {"result", to_string(b.result)}, {"error", b.error}};
}

void to_json(json &j, const BootRecord &b)
{
    j = {{"time", b.time}, {"kernel_release", b.kernel_release}, {"enabled", b.enabled},
         {"reason", b.reason}, {"patches", b.items}, {"status", b.status}};
}

Expected<BootRecord> parse_boot_record(std::string_view text)
{
    auto j = parse_json_object(text);
    if (!j)
        return j.error();
    BootRecord b;
    JsonFields in(*j);
    in.take("time", b.time).take("kernel_release", b.kernel_release).take("enabled", b.enabled);
    in.take("reason", b.reason).take("status", b.status);
    if (!in.ok())
        return in.error();
    auto items = json_items(*j, "patches");
    if (!items)
        return items.error();
    for (const auto &i : *items) {
        BootItem item;
        JsonFields f(i);
        std::string result;
        f.take("name", item.name).take("result", result).take("error", item.error);
        if (!f.ok())
            return f.error().in("\"patches\"");
        auto known = from_name(kBootResultNames, result);
        if (!known)
            return Error{"key \"result\" is \"" + result + "\", expected loaded, already-loaded, failed or replaced"}.in("\"patches\"");
        item.result = *known;
        b.items.push_back(std::move(item));
    }
    return b;
}

void to_json(json &j, const StatusResult &s)
{
    j = {{"kernel_release", s.kernel_release},
         {"build_id", s.build_id},
         {"core_loaded", s.core_loaded},
         {"patches", s.list.patches},
         {"kpatchd", s.boot ? json(*s.boot) : json(nullptr)},
         {"newer_kernels", s.newer_kernels},
         {"notes", s.notes}};
}

} // namespace kpatch::loader
