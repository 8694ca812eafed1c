// Reads a whole file into a string, as an Expected (licence: GPL-2.0-only).
// The one reader of whole files for kpatch-build, its symbol-table parsers and the loader.
#pragma once

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>

#include <kpatch/expected.hpp>

namespace kpatch {

struct ReadLimits {
    // Larger is an error, not memory: for files others may have written or corrupted.
    // sysfs and procfs files report a size of 4096 or 0, so this is checked while reading.
    size_t max_size = SIZE_MAX;
    // Refuse anything but a regular file, and open without blocking: a FIFO planted where
    // a file should be must not hang the reader (kpatchctl, kpatchd).
    bool regular_only = false;
};

inline Expected<std::string> read_file(const std::string &path, ReadLimits limits = {})
{
    auto failed = [&](const std::string &why) { return Error{"cannot read " + path + ": " + why}; };
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | (limits.regular_only ? O_NONBLOCK : 0));
    if (fd < 0)
        return failed(std::strerror(errno));
    if (limits.regular_only) {
        struct stat st {};
        int rc = ::fstat(fd, &st), err = errno;
        if (rc != 0 || !S_ISREG(st.st_mode)) {
            ::close(fd);
            return failed(rc != 0 ? std::strerror(err) : "not a regular file");
        }
    }
    std::string out;
    char buf[1 << 16];
    for (;;) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int err = errno;
            ::close(fd);
            return failed(std::strerror(err));
        }
        if (n == 0)
            break;
        if (static_cast<size_t>(n) > limits.max_size - out.size()) {
            ::close(fd);
            return failed("larger than " + std::to_string(limits.max_size) + " bytes, which no file of kpatch's is");
        }
        out.append(buf, static_cast<size_t>(n));
    }
    ::close(fd);
    return out;
}

} // namespace kpatch
