// Reads the core module's sysfs tree (format in doc/interfaces.md) (licence: GPL-2.0-only).
#include <kpatch/loader/sysfs.hpp>

#include "util.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
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

std::optional<FunctionDirName> parse_function_dir(std::string_view dirname)
{
    size_t comma = dirname.rfind(',');
    if (comma == 0 || comma == std::string_view::npos || comma + 1 == dirname.size())
        return std::nullopt;
    FunctionDirName out;
    out.name = std::string(dirname.substr(0, comma));
    std::string_view pos = dirname.substr(comma + 1);
    auto [end, ec] = std::from_chars(pos.data(), pos.data() + pos.size(), out.sympos);
    if (ec != std::errc() || end != pos.data() + pos.size())
        return std::nullopt;
    return out;
}

namespace {

// The subdirectories of DIR, by name; an error names DIR.
Expected<std::vector<fs::path>> subdirectories(const fs::path &dir)
{
    std::vector<fs::path> out;
    std::error_code ec;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
        std::error_code type_ec;
        if (it->is_directory(type_ec))
            out.push_back(it->path());
    }
    if (ec)
        return Error{fmt::format("cannot list {}: {}", dir.string(), ec.message())};
    std::sort(out.begin(), out.end());
    return out;
}

// <patch>/<object>/<function>,<sympos>/ (doc/interfaces.md).
Expected<void> read_object_dir(const fs::path &dir, PatchState &p)
{
    ObjectState obj{dir.filename().string(), read_line(dir / "state")};
    if (obj.state.empty())
        return Error{fmt::format("{}: 'state' is missing or empty", dir.string())};
    auto funcs = subdirectories(dir);
    if (!funcs)
        return funcs.error();
    for (const auto &fdir : *funcs) {
        auto id = parse_function_dir(fdir.filename().string());
        if (!id)
            return Error{fmt::format("{}: not a '<function>,<position>' directory", fdir.string())};
        std::string active = read_line(fdir / "active");
        if (active != "0" && active != "1")
            return Error{fmt::format("{}: 'active' reads '{}', expected 0 or 1", fdir.string(), active)};
        p.functions.push_back(FunctionState{obj.name, id->name, id->sympos, read_line(fdir / "old_addr"),
                                            read_line(fdir / "new_addr"), active == "1"});
    }
    p.objects.push_back(std::move(obj));
    return {};
}

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
    // Cumulative patches (absent with an older core: nothing replaced).
    p.replace = read_line(dir / "replace") == "1";
    p.replaced_by = read_line(dir / "replaced_by");
    if (auto names = detail::read_file(dir / "replaced_patches")) {
        std::istringstream in(*names);
        for (std::string n; std::getline(in, n);)
            if (!n.empty())
                p.replaced_patches.push_back(n);
    }
    auto objects = subdirectories(dir);
    if (!objects)
        return objects.error();
    for (const auto &odir : *objects)
        if (auto ok = read_object_dir(odir, p); !ok)
            return ok.error();
    return p;
}
} // namespace

Expected<std::vector<PatchState>> read_patches(const Config &config)
{
    std::vector<PatchState> out;
    if (!core_loaded(config))
        return out;
    auto dirs = subdirectories(config.sysfs_root);
    if (!dirs)
        return dirs.error();
    for (const auto &dir : *dirs) {
        auto p = read_patch_dir(dir);
        if (!p)
            return p.error();
        out.push_back(std::move(*p));
    }
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
