// Small helpers private to the loader library (licence: GPL-2.0-only).
#include "util.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <fstream>
#include <sstream>

namespace kpatch::loader::detail {

Expected<std::string> read_file(const std::filesystem::path &path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in)
        return Error{fmt::format("cannot read {}: {}", path.string(), errno_text(errno))};
    std::ostringstream buf;
    buf << in.rdbuf();
    return buf.str();
}

std::string read_line(const std::filesystem::path &path)
{
    std::ifstream in(path);
    std::string line;
    if (in)
        std::getline(in, line);
    return std::string(trim(line));
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
