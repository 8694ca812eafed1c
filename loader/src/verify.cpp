// info and verify: what a patch module is, and whether it would load on this kernel (licence: GPL-2.0-only).
#include <kpatch/loader/ops.hpp>
#include <kpatch/build_id.hpp>

#include "util.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

namespace kpatch::loader {

namespace fs = std::filesystem;
using detail::failure;

namespace {

Expected<fs::path> module_path(const Context &ctx, const std::string &what, const std::string &target)
{
    if (target.find('/') != std::string::npos || target.ends_with(".ko"))
        return fs::path(target);
    std::string kver = kernel_release(ctx.config);
    auto p = Store(ctx.config.install_root).find(target, kver);
    if (!p)
        return failure(what, target, p.error().message + " (give a path to a module file)", p.error().code);
    return p->path;
}

// How many vmlinux text symbols carry each of NAMES, from a kallsyms-format file.
std::optional<std::map<std::string, int>> count_symbols(const fs::path &kallsyms, const std::set<std::string> &names)
{
    std::map<std::string, int> counts;
    std::ifstream in(kallsyms);
    if (!in)
        return std::nullopt;
    std::string line;
    while (std::getline(in, line)) {
        std::istringstream f(line);
        std::string addr, type, name, module;
        if (!(f >> addr >> type >> name) || (f >> module) || (type != "t" && type != "T"))
            continue;
        if (names.count(name))
            ++counts[name];
    }
    return counts;
}

// vmlinux functions ftrace can hook; nullopt when tracefs is not readable.
std::optional<std::set<std::string>> ftrace_locations(const fs::path &file, const std::set<std::string> &names)
{
    std::ifstream in(file);
    if (!in)
        return std::nullopt;
    std::set<std::string> found;
    std::string line;
    while (std::getline(in, line)) {
        std::istringstream f(line);
        std::string name, module;
        if ((f >> name) && !(f >> module) && names.count(name))
            found.insert(name);
    }
    return found;
}

Check check_function(const ReplacedFunction &fn, const std::optional<std::map<std::string, int>> &counts,
                     const std::optional<std::set<std::string>> &ftrace)
{
    Check c{"function:" + fn.name, CheckResult::Pass, ""};
    if (fn.object != "vmlinux")
        return {c.name, CheckResult::Skip, fmt::format("in module {}; only vmlinux functions are checked", fn.object)};
    if (!counts)
        return {c.name, CheckResult::Skip, "the kernel's symbol table is not readable"};
    auto it = counts->find(fn.name);
    int n = it == counts->end() ? 0 : it->second;
    if (n == 0)
        return {c.name, CheckResult::Fail, "no such function in this kernel (/proc/kallsyms)"};
    if (fn.sympos == 0 && n > 1)
        return {c.name, CheckResult::Fail, fmt::format("{} functions have this name and the patch does not say which", n)};
    if (fn.sympos > static_cast<unsigned long>(n))
        return {c.name, CheckResult::Fail, fmt::format("position {} asked, only {} functions have this name", fn.sympos, n)};
    if (!ftrace)
        c.detail = "present; ftrace locations not readable (mount tracefs to check)";
    else if (!ftrace->count(fn.name))
        return {c.name, CheckResult::Fail, "present but not an ftrace location (notrace or inlined)"};
    else
        c.detail = "present and an ftrace location";
    return c;
}

Check check_core(const Config &c, const std::string &kver)
{
    if (core_loaded(c))
        return {"core", CheckResult::Pass, "kpatch core module loaded"};
    std::vector<fs::path> paths;
    if (!c.core_module.empty())
        paths.push_back(c.core_module);
    paths.push_back(c.modules_root / kver / "extra" / "kpatch.ko");
    paths.push_back(c.modules_root / kver / "updates" / "kpatch.ko");
    for (const auto &p : paths) {
        std::error_code ec;
        if (fs::is_regular_file(p, ec))
            return {"core", CheckResult::Pass, fmt::format("kpatch core module not loaded; would load {}", p.string())};
    }
    return {"core", CheckResult::Skip, "kpatch core module not loaded; would try 'modprobe kpatch'"};
}

Check check_signature(const Config &c, const ModuleInfo &m)
{
    bool enforced = detail::read_line(c.sig_enforce) == "Y";
    if (m.is_signed)
        return {"signature", CheckResult::Pass, "signed (the kernel checks the key when loading)"};
    if (enforced)
        return {"signature", CheckResult::Fail, "not signed and this kernel enforces module signatures"};
    return {"signature", CheckResult::Pass, "not signed; loading taints the kernel"};
}

std::vector<Check> identity_checks(const Context &ctx, const ModuleInfo &m, const std::string &kver)
{
    std::vector<Check> out;
    out.push_back(m.release == kver ? Check{"vermagic", CheckResult::Pass, m.vermagic}
                                    : Check{"vermagic", CheckResult::Fail, fmt::format("built for {} ('{}'), running {}", m.release, m.vermagic, kver)});
    if (!m.has_manifest)
        out.push_back({"kernel-release", CheckResult::Skip, "no .kpatch.manifest in the module"});
    else if (m.kernel_release.empty() || m.kernel_release == kver)
        out.push_back({"kernel-release", m.kernel_release.empty() ? CheckResult::Skip : CheckResult::Pass, m.kernel_release});
    else
        out.push_back({"kernel-release", CheckResult::Fail, fmt::format("built for {}, running {}", m.kernel_release, kver)});
    std::string running = running_build_id(ctx.config);
    if (m.build_id.empty() || running.empty())
        out.push_back({"build-id", CheckResult::Skip, m.build_id.empty() ? "the module records no build id" : "this kernel's build id is unknown"});
    else
        out.push_back({"build-id", m.build_id == running ? CheckResult::Pass : CheckResult::Fail,
                       m.build_id == running ? running : fmt::format("built for {}, running {}", m.build_id, running)});
    return out;
}

} // namespace

std::string running_build_id(const Config &config)
{
    auto data = detail::read_file(config.kernel_notes);
    if (!data)
        return {};
    return find_gnu_build_id(*data);
}

Expected<ModuleInfo> info(const Context &ctx, const std::string &target)
{
    auto path = module_path(ctx, "show", target);
    if (!path)
        return path.error();
    return read_module_info(*path);
}

bool VerifyResult::ok() const
{
    return std::none_of(checks.begin(), checks.end(), [](const Check &c) { return c.result == CheckResult::Fail; });
}

Expected<VerifyResult> verify(const Context &ctx, const std::string &target)
{
    auto path = module_path(ctx, "verify", target);
    if (!path)
        return path.error();
    auto m = read_module_info(*path);
    if (!m)
        return m.error();
    VerifyResult r{*m, kernel_release(ctx.config), {}};
    auto trusted = open_trusted(*path, ctx.config.trusted_uid);
    r.checks.push_back(trusted ? Check{"file", CheckResult::Pass, "owned by root, not writable by group or others, no symlink"}
                               : Check{"file", CheckResult::Fail, trusted.error().message});
    for (auto &c : identity_checks(ctx, *m, r.kernel_release))
        r.checks.push_back(std::move(c));
    r.checks.push_back(check_signature(ctx.config, *m));
    r.checks.push_back(check_core(ctx.config, r.kernel_release));
    std::error_code ec;
    if (fs::is_directory(ctx.config.sys_module_root / m->name, ec))
        r.checks.push_back({"not-loaded", CheckResult::Fail, "a module of this name is already loaded"});
    if (!m->has_manifest) {
        r.checks.push_back({"functions", CheckResult::Skip, "no .kpatch.manifest: the replaced functions are known only once loaded"});
        return r;
    }
    std::set<std::string> names;
    for (const auto &f : m->replaced)
        names.insert(f.name);
    auto counts = count_symbols(ctx.config.kallsyms, names);
    auto ftrace = ftrace_locations(ctx.config.filter_functions, names);
    for (const auto &f : m->replaced)
        r.checks.push_back(check_function(f, counts, ftrace));
    return r;
}

} // namespace kpatch::loader
