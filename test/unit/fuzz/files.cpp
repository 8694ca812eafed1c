// Files in odd states for the loader fuzzer: missing, symlinked, special, huge, untrusted (licence: GPL-2.0-only).
#include "files.hpp"

#include <fmt/format.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <stdexcept>

namespace kpatch::fuzz {

namespace {

void check(int rc, std::string_view what, const fs::path &path)
{
    if (rc != 0)
        throw std::runtime_error(fmt::format("fuzzer setup: {} {}: {}", what, path.string(), std::strerror(errno)));
}

// A copy of PATH (file or tree, symlinks kept as symlinks) under OUTSIDE.
fs::path copy_outside(const fs::path &path, const fs::path &outside)
{
    static unsigned counter;
    fs::path dest = outside / fmt::format("copy{}-{}", ++counter, path.filename().string());
    fs::create_directories(outside);
    std::error_code ec;
    fs::copy(path, dest, fs::copy_options::recursive | fs::copy_options::copy_symlinks, ec);
    if (ec)
        write_file(dest, "");  // PATH did not exist or was special: the link points at an empty file
    return dest;
}

} // namespace

void write_file(const fs::path &path, std::string_view content, mode_t mode)
{
    fs::create_directories(path.parent_path());
    // O_NONBLOCK: an earlier damage may have left a FIFO here (then this fails, the input is skipped).
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, mode);
    check(fd < 0 ? -1 : 0, "create", path);
    ssize_t n = ::write(fd, content.data(), content.size());
    ::close(fd);
    check(n == static_cast<ssize_t>(content.size()) ? 0 : -1, "write", path);
    check(::chmod(path.c_str(), mode), "chmod", path);
}

void make_odd(const fs::path &path, const fs::path &outside, Rng &rng, std::string &what)
{
    std::error_code ec;
    fs::path copy;
    unsigned kind = rng.below(13);
    if (kind == 6)
        copy = copy_outside(path, outside);
    bool is_file = fs::is_regular_file(fs::symlink_status(path, ec));
    if (kind >= 9 && is_file) {  // changes of an existing file in place
        switch (kind) {
        case 9:
            // Sparse: far past the 16 MiB the loader reads of its own files, no disk used.
            check(::truncate(path.c_str(), rng.percent(50) ? (off_t(3) << 30) : (16 << 20) + 1), "truncate", path);
            what += fmt::format(" {}: huge sparse", path.filename().string());
            return;
        case 10:
            check(::chmod(path.c_str(), rng.percent(50) ? 0666 : 0620), "chmod", path);
            what += fmt::format(" {}: group/other-writable", path.filename().string());
            return;
        case 11:
            check(::chown(path.c_str(), 4242, 4242), "chown", path);
            what += fmt::format(" {}: owned by uid 4242", path.filename().string());
            return;
        default:
            check(::truncate(path.c_str(), 0), "truncate", path);
            what += fmt::format(" {}: empty", path.filename().string());
            return;
        }
    }
    fs::remove_all(path, ec);
    fs::create_directories(path.parent_path());
    std::string name = path.filename().string();
    switch (kind) {
    case 0:
        what += fmt::format(" {}: missing", name);
        return;
    case 1:
        fs::create_directories(path);
        what += fmt::format(" {}: a directory", name);
        return;
    case 2:
        check(::mkfifo(path.c_str(), 0644), "mkfifo", path);
        what += fmt::format(" {}: a FIFO", name);
        return;
    case 3:
        fs::create_symlink("/dev/zero", path);
        what += fmt::format(" {}: symlink to /dev/zero", name);
        return;
    case 4:
        fs::create_symlink(name, path);
        what += fmt::format(" {}: symlink to itself", name);
        return;
    case 5:
        fs::create_symlink(path.parent_path() / "does-not-exist", path);
        what += fmt::format(" {}: dangling symlink", name);
        return;
    case 6:
        fs::create_symlink(copy, path);
        what += fmt::format(" {}: symlink to a copy outside the store", name);
        return;
    case 7:
        fs::create_symlink("/proc/self/status", path);
        what += fmt::format(" {}: symlink to /proc/self/status", name);
        return;
    default:
        write_file(path, std::string(1 + rng.below(64), static_cast<char>(rng.next())));
        what += fmt::format(" {}: a small file of junk", name);
        return;
    }
}

} // namespace kpatch::fuzz
