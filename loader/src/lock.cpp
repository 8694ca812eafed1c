// The change lock: flock on a file under the run directory holding the owner's pid (licence: GPL-2.0-only).
#include <kpatch/loader/lock.hpp>
#include <kpatch/pid_lock.hpp>

#include "util.hpp"

#include <fmt/format.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

namespace kpatch::loader {

namespace {
// "comm (pid N)" of the holder whose pid the lock file names.
std::string describe_holder(const std::string &pid)
{
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
    bool pid_written = false;
    int err = lock_with_pid(fd.get(), [&](const std::string &pid) {
        if (notify)
            notify(fmt::format("Waiting for {} to finish (it holds {})", describe_holder(pid), path.string()));
    }, &pid_written);
    if (err != 0)
        return detail::failure("lock", path.string(), detail::errno_text(err), kFailed);
    if (!pid_written)
        return detail::failure("write lock", path.string(), detail::errno_text(errno), kFailed);
    return ChangeLock(std::move(fd));
}

} // namespace kpatch::loader
