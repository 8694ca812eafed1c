// An exclusive flock on a file that names its holder's pid (licence: GPL-2.0-only).
//
// kpatch-build's cache lock and the loader's change lock (kpatchctl, kpatchd) work the
// same way: try the lock; when another process has it, say who (the pid on the file's
// first line) and wait; once held, write our pid so the next waiter can say who. The
// callers own the file (how it is opened, its mode and owner) and the wording of errors.
#pragma once

#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <string_view>

namespace kpatch {

// The pid on the first line of the lock file FD, trimmed; "" when it holds none.
inline std::string lock_holder_pid(int fd)
{
    char buf[32] = {};
    ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
    std::string_view text(buf, n > 0 ? static_cast<size_t>(n) : 0);
    text = text.substr(0, text.find('\n'));
    size_t b = text.find_first_not_of(" \t\r"), e = text.find_last_not_of(" \t\r");
    return b == std::string_view::npos ? std::string() : std::string(text.substr(b, e - b + 1));
}

// Takes the exclusive flock on FD, calling WAITING(holder's pid, maybe "") first when another
// process holds it, then writes our pid as the file's only line. 0, or the errno of the
// flock that failed; a pid that could not be written is not a failure (see pid_written).
template <typename Waiting>
int lock_with_pid(int fd, Waiting &&waiting, bool *pid_written = nullptr)
{
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
        if (errno != EWOULDBLOCK)
            return errno;
        waiting(lock_holder_pid(fd));
        while (::flock(fd, LOCK_EX) != 0)
            if (errno != EINTR)
                return errno;
    }
    std::string pid = std::to_string(::getpid()) + "\n";
    bool written = ::ftruncate(fd, 0) == 0 && ::pwrite(fd, pid.data(), pid.size(), 0) == static_cast<ssize_t>(pid.size());
    if (pid_written)
        *pid_written = written;
    return 0;
}

} // namespace kpatch
