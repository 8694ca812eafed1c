// State shared by the steps of one kpatch-build run, and the small helpers they all use
// (licence: GPL-2.0-only).
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include <kpatch/driver/driver.hpp>

namespace kpatch::driver {

struct Context {
    const Options &options;
    const Reporter &reporter;
    std::string cache_dir;   // absolute
    unsigned jobs = 2;

    void note(const std::string &text) const { reporter.note(text); }
};

// Where the cache lives: --cache-dir, $KPATCH_CACHE_DIR, $XDG_CACHE_HOME/kpatch,
// ~/.cache/kpatch.
std::string default_cache_dir(const Options &options);

// Times one step and reports it when it ends (also on failure, so the log says which
// step failed after how long).
class StepTimer {
public:
    StepTimer(const Context &ctx, std::string step);
    void done(std::string detail);
    ~StepTimer();

private:
    const Context &ctx_;
    std::string step_;
    std::chrono::steady_clock::time_point start_;
    bool reported_ = false;
};

// Filesystem helpers returning errors as values.
Expected<std::string> read_text(const std::string &path);
Expected<void> write_text_atomic(const std::string &path, const std::string &text);
Expected<void> make_dirs(const std::string &path);
bool exists(const std::string &path);
std::string sha256_hex(const std::string &data);
Expected<std::string> sha256_file(const std::string &path);
std::string trim(std::string s);
// Removes a directory tree; failures are ignored (best effort cleanup).
void remove_tree(const std::string &path);
bool process_alive(long pid);

} // namespace kpatch::driver

namespace kpatch::driver {

// Holds an exclusive flock on <cache>/lock for one run: the prepared tree, the cached
// original objects and the work directories are shared state, and two runs at once
// could see each other's half-written files. A second run waits and says for whom.
class CacheLock {
public:
    static Expected<CacheLock> acquire(const Context &ctx);
    CacheLock(CacheLock &&other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
    CacheLock(const CacheLock &) = delete;
    CacheLock &operator=(const CacheLock &) = delete;
    CacheLock &operator=(CacheLock &&) = delete;
    ~CacheLock();

private:
    explicit CacheLock(int fd) : fd_(fd) {}
    int fd_ = -1;
};

} // namespace kpatch::driver
