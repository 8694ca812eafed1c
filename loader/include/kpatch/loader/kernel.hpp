// The kernel calls the loader makes, behind an interface so tests inject a fake (licence: GPL-2.0-only).
#pragma once

#include <chrono>
#include <memory>
#include <string>

namespace kpatch::loader {

class Kernel {
public:
    virtual ~Kernel() = default;
    // Each returns 0 or an errno value.
    virtual int finit_module(int fd, const std::string &params) = 0;
    virtual int delete_module(const std::string &name) = 0;
    // Runs `modprobe NAME`; returns its exit status (127 when it could not run).
    virtual int modprobe(const std::string &name) = 0;
    virtual void sleep(std::chrono::milliseconds delay) = 0;
};

// The real thing: finit_module(2), delete_module(2) with O_NONBLOCK, /sbin/modprobe.
std::unique_ptr<Kernel> make_system_kernel();

} // namespace kpatch::loader
