// Helpers shared by the kpatch-build steps: cache location, step timing, files, hashes
// (licence: GPL-2.0-only).
#include "context.hpp"

#include <kpatch/read_file.hpp>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <openssl/evp.h>
#include <sstream>
#include <fcntl.h>
#include <sys/file.h>
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
        dir = "/var/tmp/kpatch";
    std::error_code ec;
    fs::path abs = fs::absolute(dir, ec);
    return ec ? dir : abs.lexically_normal().string();
}

StepTimer::StepTimer(const Context &ctx, std::string step)
    : ctx_(ctx), step_(std::move(step)), start_(std::chrono::steady_clock::now())
{
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
    std::string tmp = path + ".tmp." + std::to_string(getpid());
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        out << text;
        out.flush();
        if (!out)
            return make_error(std::string("cannot write: ") + std::strerror(errno)).in(tmp);
    }
    std::error_code ec;
    fs::rename(tmp, path, ec);
    if (ec) {
        fs::remove(tmp, ec);
        return make_error("cannot rename into place: " + ec.message()).in(path);
    }
    return {};
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

bool process_alive(long pid)
{
    return pid > 0 && (kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM);
}

Expected<CacheLock> CacheLock::acquire(const Context &ctx)
{
    if (auto ok = make_dirs(ctx.cache_dir); !ok)
        return ok.error();
    std::string path = ctx.cache_dir + "/lock";
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        return make_error(std::string("cannot open the cache lock: ") + std::strerror(errno)).in(path);
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
        char holder[32] = {};
        ssize_t n = ::pread(fd, holder, sizeof(holder) - 1, 0);
        std::string who = n > 0 ? std::string(holder, static_cast<size_t>(n)) : "unknown";
        while (!who.empty() && (who.back() == '\n' || who.back() == ' '))
            who.pop_back();
        ctx.note("waiting for another kpatch-build (pid " + who + ") using the cache " + ctx.cache_dir);
        if (::flock(fd, LOCK_EX) != 0) {
            int err = errno;
            ::close(fd);
            return make_error(std::string("cannot lock the cache: ") + std::strerror(err)).in(path);
        }
    }
    std::string pid = std::to_string(getpid()) + "\n";
    if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, pid.data(), pid.size(), 0) < 0) {
        // Only the waiting message of a later run would lack our pid; the lock holds.
    }
    return CacheLock(fd);
}

CacheLock::~CacheLock()
{
    if (fd_ >= 0)
        ::close(fd_); // closing releases the flock
}

} // namespace kpatch::driver
