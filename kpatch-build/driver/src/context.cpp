// Helpers shared by the kpatch-build steps: cache location, step timing, files, hashes
// (licence: GPL-2.0-only).
#include "context.hpp"

#include <kpatch/pid_lock.hpp>
#include <kpatch/read_file.hpp>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <openssl/evp.h>
#include <random>
#include <sstream>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

namespace kpatch::driver {

namespace fs = std::filesystem;

std::string default_cache_dir(const Options &options)
{
    std::string dir;
    if (!options.cache_dir.empty())
        dir = options.cache_dir;
    else if (const char *env = std::getenv("KPATCH_CACHE_DIR"); env && *env)
        dir = env;
    else if (const char *xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg)
        dir = std::string(xdg) + "/kpatch";
    else if (const char *home = std::getenv("HOME"); home && *home)
        dir = std::string(home) + "/.cache/kpatch";
    else
        dir = fallback_cache_dir();
    std::error_code ec;
    fs::path abs = fs::absolute(dir, ec);
    return ec ? dir : abs.lexically_normal().string();
}

std::string fallback_cache_dir()
{
    // Per user: /var/tmp is shared, and a name another user can predict is one they can plant.
    return "/var/tmp/kpatch-" + std::to_string(geteuid());
}

Expected<void> check_private_dir(const std::string &dir)
{
    struct stat st {};
    if (::lstat(dir.c_str(), &st) != 0)
        return make_error(std::string("cannot inspect the cache directory: ") + std::strerror(errno)).in(dir);
    // A symlink of ours (~/.cache pointing to a bigger disk) is fine; one of another user's is
    // how a cache gets planted.
    if (S_ISLNK(st.st_mode) && st.st_uid != geteuid() && st.st_uid != 0)
        return make_error("the cache directory is a symlink owned by uid " + std::to_string(st.st_uid) +
                          ", not by you; remove it or choose another with --cache-dir").in(dir);
    if (::stat(dir.c_str(), &st) != 0)
        return make_error(std::string("cannot inspect the cache directory: ") + std::strerror(errno)).in(dir);
    if (!S_ISDIR(st.st_mode))
        return make_error("the cache is not a directory; remove it or choose another with --cache-dir").in(dir);
    // What is in the cache (prepared trees, packages, objects) goes into modules that root
    // loads: nobody else may have been able to put anything there.
    if (st.st_uid != geteuid())
        return make_error("the cache directory is owned by uid " + std::to_string(st.st_uid) + ", not by you (uid " +
                          std::to_string(geteuid()) + "): its prepared trees could have been planted; remove it "
                          "or choose another with --cache-dir").in(dir);
    if (st.st_mode & (S_IWGRP | S_IWOTH)) {
        char mode[8];
        std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
        return make_error(std::string("the cache directory is writable by ") + ((st.st_mode & S_IWOTH) ? "others" : "its group") +
                          " (mode " + mode + "): its prepared trees could have been planted; 'chmod go-w' it after "
                          "checking its contents, or remove it").in(dir);
    }
    return {};
}

Expected<void> make_cache_dir(const std::string &dir)
{
    std::error_code ec;
    fs::path parent = fs::path(dir).parent_path();
    if (!parent.empty())
        fs::create_directories(parent, ec);
    // Private from the start, whatever the umask: 0700.
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
        return make_error(std::string("cannot create the cache directory: ") + std::strerror(errno)).in(dir);
    return check_private_dir(dir);
}

namespace {
mode_t current_umask()
{
    mode_t m = ::umask(022);
    ::umask(m);
    return m;
}
} // namespace

Expected<std::string> make_temp_file(const std::string &path)
{
    fs::path p(path);
    std::string tmpl = (p.parent_path() / ("." + p.filename().string() + ".tmp.XXXXXX")).string();
    int fd = ::mkstemp(tmpl.data());
    if (fd < 0)
        return make_error(std::string("cannot create a temporary file: ") + std::strerror(errno)).in(path);
    // mkstemp makes it 0600; the file it becomes gets the usual mode.
    int rc = ::fchmod(fd, 0666 & ~current_umask());
    ::close(fd);
    if (rc != 0) {
        ::unlink(tmpl.c_str());
        return make_error(std::string("cannot chmod a temporary file: ") + std::strerror(errno)).in(tmpl);
    }
    return tmpl;
}

Expected<std::string> make_temp_dir(const std::string &path)
{
    fs::path p(path);
    std::string tmpl = (p.parent_path() / ("." + p.filename().string() + ".tmp.XXXXXX")).string();
    if (!::mkdtemp(tmpl.data()))
        return make_error(std::string("cannot create a temporary directory: ") + std::strerror(errno)).in(path);
    return tmpl;
}

bool is_temp_name(const std::string &name)
{
    return name.starts_with(".") && name.find(".tmp.") != std::string::npos;
}

Expected<void> rename_into_place(const std::string &tmp, const std::string &path)
{
    std::error_code ec;
    fs::rename(tmp, path, ec);
    if (!ec)
        return {};
    std::error_code ignored;
    fs::remove_all(tmp, ignored);
    return make_error("cannot move " + tmp + " into place: " + ec.message()).in(path);
}

namespace {

Expected<void> copy_fd(int in, int out, const std::string &from)
{
    char buf[65536];
    for (;;) {
        ssize_t n = ::read(in, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return make_error(std::string("cannot read: ") + std::strerror(errno)).in(from);
        if (n == 0)
            return {};
        for (ssize_t done = 0; done < n;) {
            ssize_t w = ::write(out, buf + done, static_cast<size_t>(n - done));
            if (w < 0 && errno == EINTR)
                continue;
            if (w < 0)
                return make_error(std::string("cannot write a copy: ") + std::strerror(errno)).in(from);
            done += w;
        }
    }
}

// Gives the unnamed file FD a fresh temporary name beside TO (linkat cannot replace a
// file), to be renamed over TO.
Expected<std::string> name_tmpfile(int fd, const std::string &to)
{
    fs::path p(to);
    std::string proc = "/proc/self/fd/" + std::to_string(fd);
    static const char chars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    std::random_device random;
    for (int attempt = 0; attempt < 100; ++attempt) {
        // Only a candidate: linkat fails rather than replace a file planted there.
        std::string suffix;
        for (int i = 0; i < 6; ++i)
            suffix += chars[random() % (sizeof chars - 1)];
        std::string tmpl = (p.parent_path() / ("." + p.filename().string() + ".tmp." + suffix)).string();
        if (::linkat(AT_FDCWD, proc.c_str(), AT_FDCWD, tmpl.c_str(), AT_SYMLINK_FOLLOW) == 0)
            return tmpl;
        if (errno != EEXIST)
            return make_error(std::string("cannot link the new file into place: ") + std::strerror(errno)).in(to);
    }
    return make_error("cannot find a free temporary name").in(to);
}

} // namespace

Expected<void> copy_file_atomic(const std::string &from, const std::string &to)
{
    int in = ::open(from.c_str(), O_RDONLY | O_CLOEXEC);
    if (in < 0)
        return make_error(std::string("cannot open: ") + std::strerror(errno)).in(from);
    std::string dir = fs::path(to).parent_path().string();
    int out = ::open(dir.empty() ? "." : dir.c_str(), O_TMPFILE | O_WRONLY | O_CLOEXEC, 0666);
    std::string tmp;
    if (out < 0) {
        // A file system without O_TMPFILE: a named temporary, which the cache sweep
        // removes if the run dies before the rename.
        auto named = make_temp_file(to);
        if (!named) {
            ::close(in);
            return named.error();
        }
        tmp = *named;
        out = ::open(tmp.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOFOLLOW);
        if (out < 0) {
            int err = errno;
            ::close(in);
            ::unlink(tmp.c_str());
            return make_error(std::string("cannot open: ") + std::strerror(err)).in(tmp);
        }
    }
    auto copied = copy_fd(in, out, from);
    ::close(in);
    crash_point("copied " + fs::path(to).filename().string());
    if (copied && tmp.empty()) {
        auto named = name_tmpfile(out, to);
        if (named)
            tmp = *named;
        else
            copied = named.error();
    }
    ::close(out);
    if (!copied) {
        if (!tmp.empty())
            ::unlink(tmp.c_str());
        return copied.error();
    }
    return rename_into_place(tmp, to);
}

namespace {

// Removes temporary names in DIR, and with RECURSE in its subdirectories too.
void sweep_dir(const fs::path &dir, bool recurse)
{
    std::error_code ec;
    for (auto it = fs::directory_iterator(dir, ec); !ec && it != fs::directory_iterator(); it.increment(ec)) {
        std::error_code ec2;
        if (is_temp_name(it->path().filename().string()))
            fs::remove_all(it->path(), ec2);
        else if (recurse && it->is_directory(ec2) && !it->is_symlink(ec2))
            sweep_dir(it->path(), true);
    }
}

} // namespace

void sweep_temporaries(const std::string &cache_dir)
{
    // Not into prepared trees or unpacked packages (large, and written only through
    // temporary directories renamed into place); the object caches are small.
    for (const char *sub : {"trees", "symbols", "kernel-ids", "src", "headers", "debs", "modules"})
        sweep_dir(fs::path(cache_dir) / sub, false);
    std::error_code ec;
    for (auto it = fs::directory_iterator(fs::path(cache_dir) / "trees", ec);
         !ec && it != fs::directory_iterator(); it.increment(ec))
        if (it->path().filename().string().ends_with(".objects"))
            sweep_dir(it->path(), true);
    // core/<release>/: a core build's temporary directory, one level down.
    sweep_dir(fs::path(cache_dir) / "core", true);
}

void crash_point(const std::string &name)
{
    static const std::string wanted = [] {
        const char *env = std::getenv("KPATCH_BUILD_CRASH_AT");
        return std::string(env ? env : "");
    }();
    if (wanted.empty() || wanted != name)
        return;
    std::fprintf(stderr, "kpatch-build: KPATCH_BUILD_CRASH_AT: killed at '%s'\n", name.c_str());
    std::fflush(stderr);
    if (::getpgrp() == ::getpid())
        ::kill(0, SIGKILL);
    ::raise(SIGKILL);
}

StepTimer::StepTimer(const Context &ctx, std::string step)
    : ctx_(ctx), step_(std::move(step)), start_(std::chrono::steady_clock::now())
{
    crash_point(step_);
}

void StepTimer::done(std::string detail)
{
    if (reported_)
        return;
    reported_ = true;
    std::chrono::duration<double> d = std::chrono::steady_clock::now() - start_;
    ctx_.reporter.step(StepEvent{step_, std::move(detail), d.count()});
}

StepTimer::~StepTimer()
{
    if (!reported_)
        done("failed");
}

Expected<std::string> read_text(const std::string &path)
{
    return kpatch::read_file(path);
}

Expected<void> write_text_atomic(const std::string &path, const std::string &text)
{
    auto tmp = make_temp_file(path);
    if (!tmp)
        return tmp.error();
    {
        std::ofstream out(*tmp, std::ios::binary | std::ios::trunc);
        out << text;
        out.flush();
        if (!out) {
            int err = errno;
            ::unlink(tmp->c_str());
            return make_error(std::string("cannot write: ") + std::strerror(err)).in(*tmp);
        }
    }
    return rename_into_place(*tmp, path);
}

Expected<void> make_dirs(const std::string &path)
{
    std::error_code ec;
    fs::create_directories(path, ec);
    if (ec)
        return make_error("cannot create directory: " + ec.message()).in(path);
    return {};
}

bool exists(const std::string &path)
{
    std::error_code ec;
    return fs::exists(path, ec);
}

std::string sha256_hex(const std::string &data)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
    static const char hex[] = "0123456789abcdef";
    std::string out;
    for (unsigned i = 0; i < len; ++i) {
        out += hex[md[i] >> 4];
        out += hex[md[i] & 15];
    }
    return out;
}

Expected<std::string> sha256_file(const std::string &path)
{
    auto text = read_text(path);
    if (!text)
        return text.error();
    return sha256_hex(*text);
}

std::string trim(std::string s)
{
    size_t b = s.find_first_not_of(" \t\r\n");
    size_t e = s.find_last_not_of(" \t\r\n");
    return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
}

void remove_tree(const std::string &path)
{
    std::error_code ec;
    fs::remove_all(path, ec);
}

Expected<CacheLock> CacheLock::acquire(const Context &ctx)
{
    if (auto ok = make_cache_dir(ctx.cache_dir); !ok)
        return ok.error();
    std::string path = ctx.cache_dir + "/lock";
    // No O_TRUNC and no following a symlink: the lock must never write through to a file
    // somebody else chose.
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return make_error(std::string("cannot open the cache lock: ") + std::strerror(errno) +
                          (errno == ELOOP ? " (it is a symlink; remove it)" : "")).in(path);
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid()) {
        ::close(fd);
        return make_error("the cache lock is not a regular file of yours; remove it").in(path);
    }
    int err = lock_with_pid(fd, [&](const std::string &pid) {
        ctx.note("waiting for another kpatch-build (pid " + (pid.empty() ? "unknown" : pid) +
                 ") using the cache " + ctx.cache_dir);
    });
    // A pid that could not be written only leaves a later run's waiting message without it.
    if (err != 0) {
        ::close(fd);
        return make_error(std::string("cannot lock the cache: ") + std::strerror(err)).in(path);
    }
    return CacheLock(fd);
}

CacheLock::~CacheLock()
{
    if (fd_ >= 0)
        ::close(fd_); // closing releases the flock
}

} // namespace kpatch::driver
