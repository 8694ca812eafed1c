// Small helpers private to the loader library (licence: GPL-2.0-only).
#pragma once

#include <kpatch/expected.hpp>

#include <filesystem>
#include <string>
#include <string_view>

namespace kpatch::loader::detail {

Expected<std::string> read_file(const std::filesystem::path &path);
// The first line of PATH without its newline; empty when unreadable.
std::string read_line(const std::filesystem::path &path);
std::string_view trim(std::string_view s);
std::string errno_text(int err);
// "Failed to <what> '<name>': <reason>" with CODE.
Error failure(std::string_view what, std::string_view name, std::string_view reason, int code);
std::string now_iso8601();

} // namespace kpatch::loader::detail
