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
// ~/.cache/kpatch, else fallback_cache_dir().
std::string default_cache_dir(const Options &options);
// /var/tmp/kpatch-<euid>: the cache when no home is known.
std::string fallback_cache_dir();
// Refuses a cache directory that someone else could have filled: not ours, writable by
// group or others, not a directory, or a symlink of another user's.
Expected<void> check_private_dir(const std::string &dir);
// Creates DIR (mode 0700) when missing, then check_private_dir.
Expected<void> make_cache_dir(const std::string &dir);

// A new file / directory next to PATH with an unpredictable name (".NAME.tmp.XXXXXX",
// mkstemp/mkdtemp, so nobody can plant it first), to be renamed over PATH when complete.
Expected<std::string> make_temp_file(const std::string &path);
Expected<std::string> make_temp_dir(const std::string &path);
// A name made by make_temp_*: what a killed run leaves behind.
bool is_temp_name(const std::string &name);
// Renames the finished temporary TMP (a file or a whole directory) over PATH, the one
// commit point of every write-temporary-then-rename in the driver. On failure TMP is
// removed and the error names PATH; a caller for which another run's PATH is as good
// (the cache) checks for it and goes on.
Expected<void> rename_into_place(const std::string &tmp, const std::string &path);
// Copies FROM to TO so that TO is either its old self or the whole new file: the data go
// into an unnamed file (O_TMPFILE) in TO's directory, which a killed run leaves nowhere,
// and are renamed over TO once complete (make_temp_file where O_TMPFILE is not supported).
Expected<void> copy_file_atomic(const std::string &from, const std::string &to);
// Removes what killed runs left in the cache: entries with temporary names in its own
// directories and in the object caches. Only for the holder of the cache lock: every run
// writes the cache under it, so no live run owns such a name.
void sweep_temporaries(const std::string &cache_dir);

// Test hook: with KPATCH_BUILD_CRASH_AT=NAME in the environment, the run dies of SIGKILL
// (with its process group when it leads one, so the commands it started die too) on
// reaching the point NAME: a step's name as it starts ("build objects"), or a point named
// where it is called ("lock held", "tree filled", "copied FILE"). Crash-consistency tests
// stop a run exactly between two durable writes with it; it says on stderr where it stops.
void crash_point(const std::string &name);

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
