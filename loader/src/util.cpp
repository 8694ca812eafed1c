// Small helpers private to the loader library (licence: GPL-2.0-only).
#include "util.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <ctime>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace kpatch::loader::detail {

std::string read_line(const std::filesystem::path &path)
{
    auto text = read_file(path, kMaxLineFile);
    if (!text)
        return {};
    return std::string(trim(std::string_view(*text).substr(0, text->find('\n'))));
}

std::string_view trim(std::string_view s)
{
    const char *ws = " \t\r\n";
    size_t b = s.find_first_not_of(ws);
    if (b == std::string_view::npos)
        return {};
    size_t e = s.find_last_not_of(ws);
    return s.substr(b, e - b + 1);
}

std::string errno_text(int err)
{
    return std::strerror(err);
}

Error failure(std::string_view what, std::string_view name, std::string_view reason, int code)
{
    return Error{fmt::format("Failed to {} '{}': {}", what, name, reason), code};
}

Expected<void> make_dir_mode(const std::filesystem::path &dir, mode_t mode)
{
    std::error_code ec;
    if (auto parent = dir.parent_path(); !parent.empty() && parent != dir)
        std::filesystem::create_directories(parent, ec);
    if (::mkdir(dir.c_str(), mode) == 0) {
        if (::chmod(dir.c_str(), mode) != 0)
            return Error{fmt::format("cannot chmod {}: {}", dir.string(), errno_text(errno))};
        return {};
    }
    if (errno != EEXIST)
        return Error{fmt::format("cannot create directory {}: {}", dir.string(), errno_text(errno))};
    struct stat st {};
    if (::lstat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
        return Error{fmt::format("{} is not a directory (a symlink or a file is in its place); remove it", dir.string())};
    return {};
}

std::string now_iso8601()
{
    std::time_t t = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

} // namespace kpatch::loader::detail
