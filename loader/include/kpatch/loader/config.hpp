// Where the loader finds the kernel, the install store and its run state (licence: GPL-2.0-only).
// Every path is a field so unit tests point the library at a temporary tree and run without
// root or a kernel; programs fill it from defaults, then the environment, then options.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

namespace kpatch::loader {

// Exit-code categories carried in kpatch::Error::code; kpatchctl(8) documents them.
enum ErrorCode : int {
    kFailed = 1,    // the operation failed (kernel error, I/O error)
    kUsage = 2,     // bad arguments
    kNotFound = 3,  // no such file, patch not loaded or not installed
    kRefused = 4,   // the patch does not fit this kernel, or the file is not trusted
    kBusy = 5,      // a replaced function stayed in use through every retry
};

struct Config {
    std::filesystem::path sysfs_root = "/sys/kernel/kpatch";
    std::filesystem::path sys_module_root = "/sys/module";
    std::filesystem::path kernel_notes = "/sys/kernel/notes";
    std::filesystem::path kallsyms = "/proc/kallsyms";
    std::filesystem::path cmdline = "/proc/cmdline";
    std::filesystem::path filter_functions = "/sys/kernel/tracing/available_filter_functions";
    std::filesystem::path sig_enforce = "/sys/module/module/parameters/sig_enforce";
    std::filesystem::path install_root = "/var/lib/kpatch";
    std::filesystem::path run_dir = "/run/kpatch";
    std::filesystem::path modules_root = "/lib/modules";
    std::string core_module;     // kpatch.ko to load; empty: modprobe, then modules_root/KVER/extra
    std::string kernel_release;  // empty: uname -r
    uid_t trusted_uid = 0;       // owner a module file must have to be loaded
    int retries = 5;             // extra attempts when a replaced function is busy
    std::chrono::milliseconds retry_delay{2000};
    bool nudge = true;           // let the core nudge tasks asleep in a function being switched

    std::filesystem::path lock_path() const { return run_dir / "lock"; }
    std::filesystem::path boot_record_path() const { return run_dir / "kpatchd.json"; }
};

// Overrides from KPATCH_* variables (tests, the VM harness); see kpatchctl(8) ENVIRONMENT.
Config config_from_env(Config base);

// Config::kernel_release, or the running kernel's release.
std::string kernel_release(const Config &config);

// How the library talks to its caller without printing: progress and waiting notices.
using Notify = std::function<void(std::string_view)>;

} // namespace kpatch::loader
