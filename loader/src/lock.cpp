// The change lock: flock on a file under the run directory holding the owner's pid (licence: GPL-2.0-only).
#include <kpatch/loader/lock.hpp>

#include "util.hpp"

#include <fmt/format.h>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

namespace kpatch::loader {

namespace {
std::string holder_of(int fd)
{
    char buf[32] = {};
    ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
    std::string pid = n > 0 ? std::string(detail::trim(std::string_view(buf, static_cast<size_t>(n)))) : "";
    if (pid.empty())
        return "another process";
    std::string comm = detail::read_line(fmt::format("/proc/{}/comm", pid));
    return comm.empty() ? fmt::format("pid {}", pid) : fmt::format("{} (pid {})", comm, pid);
}
} // namespace

Expected<ChangeLock> ChangeLock::acquire(const std::filesystem::path &path, const Notify &notify)
{
    if (auto r = detail::make_dir_mode(path.parent_path(), 0755); !r)
        return detail::failure("open lock", path.string(), r.error().message, kFailed);
    UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644));
    if (!fd)
        return detail::failure("open lock", path.string(), detail::errno_text(errno), kFailed);
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode))
        return detail::failure("open lock", path.string(), "not a regular file; remove it", kFailed);
    if (st.st_uid == ::geteuid() && (st.st_mode & 0777) != 0644)
        (void)::fchmod(fd.get(), 0644);  // umask-independent: readers show who holds it
    if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
        if (errno != EWOULDBLOCK)
            return detail::failure("lock", path.string(), detail::errno_text(errno), kFailed);
        if (notify)
            notify(fmt::format("Waiting for {} to finish (it holds {})", holder_of(fd.get()), path.string()));
        while (::flock(fd.get(), LOCK_EX) != 0) {
            if (errno != EINTR)
                return detail::failure("lock", path.string(), detail::errno_text(errno), kFailed);
        }
    }
    std::string pid = fmt::format("{}\n", ::getpid());
    if (::ftruncate(fd.get(), 0) != 0 || ::pwrite(fd.get(), pid.data(), pid.size(), 0) < 0)
        return detail::failure("write lock", path.string(), detail::errno_text(errno), kFailed);
    return ChangeLock(std::move(fd));
}

} // namespace kpatch::loader
