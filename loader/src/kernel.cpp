// The real kernel interface: module syscalls and modprobe (licence: GPL-2.0-only).
#include <kpatch/loader/kernel.hpp>

#include <fcntl.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <thread>

extern char **environ;

namespace kpatch::loader {

namespace {
class SystemKernel final : public Kernel {
public:
    int finit_module(int fd, const std::string &params) override
    {
        return syscall(SYS_finit_module, fd, params.c_str(), 0) == 0 ? 0 : errno;
    }

    int delete_module(const std::string &name) override
    {
        return syscall(SYS_delete_module, name.c_str(), O_NONBLOCK) == 0 ? 0 : errno;
    }

    int modprobe(const std::string &name) override
    {
        const char *argv[] = {"modprobe", "-q", name.c_str(), nullptr};
        pid_t pid;
        if (posix_spawnp(&pid, "modprobe", nullptr, nullptr, const_cast<char **>(argv), environ) != 0)
            return 127;
        int status = 0;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
        }
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
    }

    void sleep(std::chrono::milliseconds delay) override { std::this_thread::sleep_for(delay); }
};
} // namespace

std::unique_ptr<Kernel> make_system_kernel()
{
    return std::make_unique<SystemKernel>();
}

} // namespace kpatch::loader
