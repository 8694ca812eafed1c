// kpatchd's manager: the boot pass and SIGHUP reconcile over the loader library (licence: GPL-2.0-only).
#pragma once

#include <kpatch/loader/ops.hpp>

#include <spdlog/logger.h>

#include <memory>
#include <string>
#include <vector>

namespace kpatch::daemon {

class Manager {
public:
    // SINKS receive every line; a line about one patch comes from a logger named after it.
    Manager(loader::Context &ctx, std::vector<spdlog::sink_ptr> sinks);

    // Loads every patch installed for the running kernel (or nothing, with kpatch.enable=0),
    // logs each result, records it for `kpatchctl status`, and returns the sd_notify STATUS.
    std::string boot_pass();
    // SIGHUP: loads what was installed since, reports again.
    std::string reconcile();

    std::shared_ptr<spdlog::logger> log() const { return log_; }

private:
    std::string run(const char *why);
    std::string run_pass(const char *why);
    std::shared_ptr<spdlog::logger> logger_for(const std::string &patch) const;

    loader::Context &ctx_;
    std::vector<spdlog::sink_ptr> sinks_;
    std::shared_ptr<spdlog::logger> log_;
    bool disabled_ = false;  // read once: a live patch may change what /proc/cmdline shows
};

} // namespace kpatch::daemon
