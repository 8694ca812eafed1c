// Reads the core module's sysfs tree (format in doc/interfaces.md) (licence: GPL-2.0-only).
#include <kpatch/loader/sysfs.hpp>

#include "util.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <sstream>

namespace kpatch::loader {

namespace fs = std::filesystem;
using detail::read_line;

std::string module_name(std::string_view name)
{
    std::string out(name);
    std::replace(out.begin(), out.end(), '-', '_');
    return out;
}

bool core_loaded(const Config &config)
{
    std::error_code ec;
    return fs::is_directory(config.sysfs_root, ec);
}

std::optional<LastError> parse_last_error(std::string_view line)
{
    line = detail::trim(line);
    size_t colon = line.find(": ");
    if (line.empty() || colon == std::string_view::npos)
        return std::nullopt;
    std::istringstream head{std::string(line.substr(0, colon))};
    LastError e;
    if (!(head >> e.patch >> e.op >> e.errno_name))
        return std::nullopt;
    e.message = std::string(line.substr(colon + 2));
    return e;
}

Expected<std::vector<FunctionState>> parse_functions(std::string_view text)
{
    std::vector<FunctionState> out;
    std::istringstream in{std::string(text)};
    std::string line;
    for (int lineno = 1; std::getline(in, line); ++lineno) {
        if (detail::trim(line).empty())
            continue;
        std::istringstream fields(line);
        FunctionState f;
        int active = -1;
        if (!(fields >> f.name >> f.sympos >> f.old_addr >> f.new_addr >> active) || active < 0 || active > 1)
            return Error{fmt::format("functions line {}: expected '<name> <sympos> <old> <new> <0|1>', got '{}'",
                                     lineno, line)};
        f.active = active == 1;
        out.push_back(std::move(f));
    }
    return out;
}

namespace {
Expected<PatchState> read_patch_dir(const fs::path &dir)
{
    PatchState p;
    p.name = dir.filename().string();
    std::string enabled = read_line(dir / "enabled");
    if (enabled != "0" && enabled != "1")
        return Error{fmt::format("{}: 'enabled' reads '{}', expected 0 or 1", dir.string(), enabled)};
    p.enabled = enabled == "1";
    p.order = std::strtol(read_line(dir / "order").c_str(), nullptr, 10);
    p.last_error = read_line(dir / "last_error");
    if (auto text = detail::read_file(dir / "functions"); text) {
        auto funcs = parse_functions(*text);
        if (!funcs)
            return funcs.error().in(dir.string());
        p.functions = std::move(*funcs);
    }
    // Object directories are those holding a `state` file (function directories below
    // them, and the patch's own files, hold none).
    std::error_code ec;
    for (const auto &entry : fs::directory_iterator(dir, ec))
        if (entry.is_directory(ec) && fs::exists(entry.path() / "state", ec))
            p.objects.push_back({entry.path().filename().string(), read_line(entry.path() / "state")});
    std::sort(p.objects.begin(), p.objects.end(),
              [](const auto &a, const auto &b) { return a.name < b.name; });
    return p;
}
} // namespace

Expected<std::vector<PatchState>> read_patches(const Config &config)
{
    std::vector<PatchState> out;
    if (!core_loaded(config))
        return out;
    std::error_code ec;
    for (const auto &entry : fs::directory_iterator(config.sysfs_root, ec)) {
        if (!entry.is_directory())
            continue;
        auto p = read_patch_dir(entry.path());
        if (!p)
            return p.error();
        out.push_back(std::move(*p));
    }
    if (ec)
        return Error{fmt::format("cannot list {}: {}", config.sysfs_root.string(), ec.message())};
    std::sort(out.begin(), out.end(), [](const auto &a, const auto &b) { return a.order < b.order; });
    return out;
}

Expected<PatchState> read_patch(const Config &config, std::string_view name)
{
    for (const std::string &candidate : {std::string(name), module_name(name)}) {
        std::error_code ec;
        fs::path dir = config.sysfs_root / candidate;
        if (!candidate.empty() && candidate.find('/') == std::string::npos && fs::is_directory(dir, ec))
            return read_patch_dir(dir);
    }
    return Error{"not loaded", kNotFound};
}

std::string read_last_error(const Config &config)
{
    return read_line(config.sysfs_root / "last_error");
}

} // namespace kpatch::loader
