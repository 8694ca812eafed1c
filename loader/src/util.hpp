// Small helpers private to the loader library (licence: GPL-2.0-only).
#pragma once

#include <kpatch/expected.hpp>
#include <kpatch/read_file.hpp>
#include <kpatch/loader/config.hpp>

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace kpatch::loader::detail {

// Limits on what the loader reads from files others may have written or corrupted: a
// store's order file, kpatchd's record, a sysfs attribute. Larger is an error, not memory.
inline constexpr size_t kMaxFile = 16 << 20;
inline constexpr size_t kMaxLineFile = 64 << 10;

// The whole regular file PATH, at most MAX_SIZE bytes (never blocking on a FIFO).
inline Expected<std::string> read_file(const std::filesystem::path &path, size_t max_size = kMaxFile)
{
    return kpatch::read_file(path.string(), {.max_size = max_size, .regular_only = true});
}
// The first line of PATH (at most kMaxLineFile bytes) without its newline; empty when unreadable.
std::string read_line(const std::filesystem::path &path);
std::string_view trim(std::string_view s);
std::string errno_text(int err);
// "Failed to <what> '<name>': <reason>" with CODE.
Error failure(std::string_view what, std::string_view name, std::string_view reason, int code);
std::string now_iso8601();
// Creates DIR with exactly MODE (whatever the umask; parents as needed) or checks that it is
// a directory and not a symlink; kpatchctl run by a user with umask 077 must not leave
// /run/kpatch unreadable to `kpatchctl status`, nor one with umask 0 leave it writable.
Expected<void> make_dir_mode(const std::filesystem::path &dir, mode_t mode);

// nudge.cpp: the core's `nudge` parameter set to Config::nudge while the scope lives,
// then put back (nothing is written when it already has that value, or the core lacks it).
class NudgeScope {
public:
    static Expected<NudgeScope> apply(const Config &config);
    NudgeScope(NudgeScope &&other) noexcept;
    NudgeScope &operator=(NudgeScope &&) = delete;
    ~NudgeScope();

private:
    NudgeScope() = default;
    std::filesystem::path file_;
    char previous_ = 'Y';
};
// The tasks ("comm/pid") the core nudged in its last transition, when it was PATCH's.
std::vector<std::string> read_nudged(const Config &config, const std::string &patch);

} // namespace kpatch::loader::detail
