// One flock around every change, shared by kpatchctl and kpatchd (licence: GPL-2.0-only).
#pragma once

#include <kpatch/expected.hpp>
#include <kpatch/loader/config.hpp>
#include <kpatch/loader/module_file.hpp>

#include <filesystem>

namespace kpatch::loader {

// Held while alive. The holder's pid is written into the file so a waiting caller can say
// who it waits for.
class ChangeLock {
public:
    static Expected<ChangeLock> acquire(const std::filesystem::path &path, const Notify &notify);
    ChangeLock(ChangeLock &&) = default;
    ChangeLock &operator=(ChangeLock &&) = default;

private:
    explicit ChangeLock(UniqueFd fd) : fd_(std::move(fd)) {}
    UniqueFd fd_;
};

} // namespace kpatch::loader
