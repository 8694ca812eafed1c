// list, status, and kpatchd's boot pass with its record under the run directory (licence: GPL-2.0-only).
#include <kpatch/loader/json.hpp>
#include <kpatch/loader/lock.hpp>
#include <kpatch/json_dump.hpp>
#include <kpatch/loader/ops.hpp>

#include "install_order.hpp"
#include "util.hpp"

#include <kpatch/list_dir.hpp>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cctype>
#include <sstream>

namespace kpatch::loader {

namespace fs = std::filesystem;

int compare_versions(const std::string &a, const std::string &b)
{
    size_t i = 0, j = 0;
    while (i < a.size() && j < b.size()) {
        bool da = std::isdigit(static_cast<unsigned char>(a[i])), db = std::isdigit(static_cast<unsigned char>(b[j]));
        if (da && db) {
            size_t ei = i, ej = j;
            while (ei < a.size() && std::isdigit(static_cast<unsigned char>(a[ei])))
                ++ei;
            while (ej < b.size() && std::isdigit(static_cast<unsigned char>(b[ej])))
                ++ej;
            // As numbers of any length (stoull throws past 20 digits): leading zeros off,
            // then the longer is larger, then the digits decide.
            std::string_view x = std::string_view(a).substr(i, ei - i), y = std::string_view(b).substr(j, ej - j);
            x.remove_prefix(std::min(x.find_first_not_of('0'), x.size()));
            y.remove_prefix(std::min(y.find_first_not_of('0'), y.size()));
            if (x.size() != y.size())
                return x.size() < y.size() ? -1 : 1;
            if (int c = x.compare(y); c != 0)
                return c < 0 ? -1 : 1;
            i = ei, j = ej;
        } else {
            if (a[i] != b[j])
                return static_cast<unsigned char>(a[i]) < static_cast<unsigned char>(b[j]) ? -1 : 1;
            ++i, ++j;
        }
    }
    return i < a.size() ? 1 : j < b.size() ? -1 : 0;
}

bool disabled_on_cmdline(const Config &config)
{
    std::istringstream in(detail::read_line(config.cmdline));
    std::string word;
    bool disabled = false;
    while (in >> word)  // the last one wins, as for kernel parameters
        if (word.starts_with("kpatch.enable="))
            disabled = word == "kpatch.enable=0" || word == "kpatch.enable=n" || word == "kpatch.enable=N";
    return disabled;
}

Expected<void> write_boot_record(const Config &config, const BootRecord &record)
{
    if (auto r = detail::make_dir_mode(config.run_dir, 0755); !r)
        return r;
    return write_file_atomic(config.boot_record_path(), kpatch::json_dump(nlohmann::json(record), 2) + "\n");
}

std::optional<BootRecord> read_boot_record(const Config &config)
{
    // A record that cannot be read or parsed is as good as none: the next pass rewrites it.
    auto text = detail::read_file(config.boot_record_path());
    if (!text)
        return std::nullopt;
    auto record = parse_boot_record(*text);
    if (!record)
        return std::nullopt;
    return std::move(*record);
}

namespace {

// "Failed to load 'x': why" -> "why"
std::string reason_of(const std::string &message)
{
    size_t p = message.find("': ");
    return message.starts_with("Failed to ") && p != std::string::npos ? message.substr(p + 3) : message;
}

std::string summarize(const BootRecord &r)
{
    if (!r.enabled)
        return r.reason + ": no patches loaded";
    if (r.items.empty())
        return fmt::format("no patches installed for {}", r.kernel_release);
    size_t ok = std::count_if(r.items.begin(), r.items.end(), [](const BootItem &i) { return i.result != BootResult::Failed && i.result != BootResult::Replaced; });
    size_t replaced = std::count_if(r.items.begin(), r.items.end(), [](const BootItem &i) { return i.result == BootResult::Replaced; });
    std::string s = fmt::format("{} of {} patches loaded", ok, r.items.size() - replaced);
    if (replaced)
        s += fmt::format(" ({} replaced by a cumulative patch, not loaded)", replaced);
    for (const auto &i : r.items)
        if (i.result == BootResult::Failed)
            s += fmt::format("; {} failed: {}", i.name, reason_of(i.error));
    return s;
}

// A name the order file lists without its module file (deleted by hand, a disk error).
std::string missing_file_error(const Config &c, const std::string &kver, const std::string &name)
{
    return detail::failure("load", name, Store(c.install_root).missing_file_reason(name, kver), kNotFound).message;
}

bool is_loaded(const Config &c, const std::string &name)
{
    std::error_code ec;
    return bool(read_patch(c, name)) || fs::is_directory(c.sys_module_root / module_name(name), ec);
}

} // namespace

BootRecord apply_installed(Context &ctx, bool disabled)
{
    BootRecord r;
    r.time = detail::now_iso8601();
    r.kernel_release = kernel_release(ctx.config);
    if (disabled) {
        r.enabled = false;
        r.reason = "kpatch.enable=0 on the kernel command line";
        r.status = summarize(r);
        return r;
    }
    auto lock = ChangeLock::acquire(ctx.config.lock_path(), ctx.notify);
    std::vector<std::string> missing;
    auto installed = Store(ctx.config.install_root).list(r.kernel_release, &missing);
    if (!lock || !installed) {
        r.items.push_back({"(store)", BootResult::Failed, !lock ? lock.error().message : installed.error().message});
        r.status = summarize(r);
        return r;
    }
    std::vector<bool> loaded_before, is_replace;
    for (const auto &p : *installed) {
        loaded_before.push_back(is_loaded(ctx.config, p.name));
        auto info = read_module_info(p.path);
        is_replace.push_back(info && info->replace);
    }
    // The newest cumulative patch replaces everything installed before it (an order file
    // written before cumulative installs dropped them may still list them).
    size_t start = detail::boot_start(is_replace);
    for (size_t i = 0; i < installed->size(); ++i) {
        const InstalledPatch &p = (*installed)[i];
        if (i < start) {
            r.items.push_back({p.name, BootResult::Replaced, fmt::format("replaced by '{}', installed after it", (*installed)[start].name)});
            continue;
        }
        if (loaded_before[i]) {
            r.items.push_back({p.name, BootResult::AlreadyLoaded, {}});
            continue;
        }
        if (auto conflict = detail::order_conflict(*installed, i, loaded_before)) {
            r.items.push_back({p.name, BootResult::Failed, *conflict});
            continue;
        }
        auto loaded = load_locked(ctx, p.path.string());
        if (loaded && !loaded->nudged.empty())
            ctx.notify(fmt::format("{}: nudged {} asleep in a replaced function", p.name, fmt::join(loaded->nudged, ", ")));
        r.items.push_back({p.name, loaded ? BootResult::Loaded : BootResult::Failed, loaded ? "" : loaded.error().message});
    }
    for (const auto &name : missing)
        r.items.push_back({name, BootResult::Failed, missing_file_error(ctx.config, r.kernel_release, name)});
    r.status = summarize(r);
    return r;
}

namespace {

ListEntry loaded_entry(const PatchState &p, const std::string &kver)
{
    ListEntry e;
    e.name = p.name;
    e.state = p.enabled ? ListState::Enabled : ListState::Disabled;
    e.kernel_release = kver;
    e.loaded = true;
    e.order = p.order;
    e.functions = p.functions;
    e.objects = p.objects;
    e.error = p.last_error;
    e.replace = p.replace;
    e.replaced_patches = p.replaced_patches;
    e.replaced_by = p.replaced_by;
    return e;
}

const BootItem *boot_item(const std::optional<BootRecord> &boot, const std::string &kver, const std::string &name)
{
    if (!boot || boot->kernel_release != kver)
        return nullptr;
    for (const auto &i : boot->items)
        if (module_name(i.name) == module_name(name))
            return &i;
    return nullptr;
}

} // namespace

Expected<ListResult> list(const Context &ctx)
{
    ListResult r;
    r.kernel_release = kernel_release(ctx.config);
    r.core_loaded = core_loaded(ctx.config);
    auto loaded = read_patches(ctx.config);
    if (!loaded)
        return detail::failure("read", ctx.config.sysfs_root.string(), loaded.error().message, kFailed);
    for (const auto &p : *loaded)
        r.patches.push_back(loaded_entry(p, r.kernel_release));
    Store store(ctx.config.install_root);
    auto releases = store.releases();
    if (!releases)
        return detail::failure("read", ctx.config.install_root.string(), releases.error().message, kFailed);
    auto boot = read_boot_record(ctx.config);
    for (const auto &kver : *releases) {
        std::vector<std::string> missing;
        auto installed = store.list(kver, &missing);
        if (!installed)
            return detail::failure("read", (ctx.config.install_root / kver).string(), installed.error().message, kFailed);
        for (const auto &p : *installed) {
            auto same = [&](const ListEntry &e) { return e.loaded && kver == r.kernel_release && module_name(e.name) == module_name(p.name); };
            if (auto it = std::find_if(r.patches.begin(), r.patches.end(), same); it != r.patches.end()) {
                it->installed = true;
                it->install_position = p.position;
                continue;
            }
            ListEntry e{p.name, ListState::Installed, kver, false, true, 0, p.position, {}, {}, {}, false, {}, {}};
            if (const BootItem *b = boot_item(boot, kver, p.name); b && b->result == BootResult::Failed) {
                e.state = ListState::Failed;
                e.error = b->error;
            }
            r.patches.push_back(std::move(e));
        }
        for (const auto &name : missing)
            r.patches.push_back({name, ListState::Failed, kver, false, true, 0, 0, {}, {}, missing_file_error(ctx.config, kver, name), false, {}, {}});
    }
    return r;
}

namespace {

std::vector<std::string> newer_kernels(const Config &c, const std::string &kver)
{
    std::vector<std::string> out;
    std::error_code ec;
    auto entries = list_dir(c.modules_root);
    if (!entries)
        return out;  // no /lib/modules: no other kernel to warn about
    for (const auto &e : *entries) {
        std::string name = e.path().filename().string();
        // Only kernels that could boot: a leftover directory of a removed package has no modules.dep.
        if (fs::exists(e.path() / "modules.dep", ec) && compare_versions(name, kver) > 0)
            out.push_back(name);
    }
    std::sort(out.begin(), out.end(), [](const auto &a, const auto &b) { return compare_versions(a, b) < 0; });
    return out;
}

void add_notes(StatusResult &s)
{
    if (!s.boot)
        s.notes.push_back("kpatchd has not recorded a boot pass since this boot");
    else if (s.boot->kernel_release != s.kernel_release)
        s.notes.push_back(fmt::format("kpatchd's record is for kernel {}, not the running one", s.boot->kernel_release));
    else
        s.notes.push_back(fmt::format("kpatchd at {}: {}", s.boot->time, s.boot->status));
    for (const auto &e : s.list.patches) {
        if (e.kernel_release != s.kernel_release || e.loaded)
            continue;
        s.notes.push_back(e.state == ListState::Failed ? fmt::format("{} is installed but not loaded: {}", e.name, reason_of(e.error))
                                              : fmt::format("{} is installed but not loaded (run 'kpatchctl load {}')", e.name, e.name));
    }
    for (const auto &k : s.newer_kernels) {
        size_t n = std::count_if(s.list.patches.begin(), s.list.patches.end(), [&](const ListEntry &e) { return e.kernel_release == k; });
        s.notes.push_back(fmt::format("kernel {} is installed and newer than the running {}: a reboot would run it, "
                                      "with {} patch{} installed for it, not the patches of this kernel",
                                      k, s.kernel_release, n, n == 1 ? "" : "es"));
    }
}

} // namespace

Expected<StatusResult> status(const Context &ctx)
{
    StatusResult s;
    s.kernel_release = kernel_release(ctx.config);
    s.build_id = running_build_id(ctx.config);
    s.core_loaded = core_loaded(ctx.config);
    auto l = list(ctx);
    if (!l)
        return l.error();
    s.list = std::move(*l);
    s.boot = read_boot_record(ctx.config);
    s.newer_kernels = newer_kernels(ctx.config, s.kernel_release);
    add_notes(s);
    return s;
}

} // namespace kpatch::loader
