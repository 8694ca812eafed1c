// kpatchd's manager: the boot pass and SIGHUP reconcile over the loader library (licence: GPL-2.0-only).
#include "manager.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <exception>

namespace kpatch::daemon {

Manager::Manager(loader::Context &ctx, std::vector<spdlog::sink_ptr> sinks)
    : ctx_(ctx), sinks_(std::move(sinks)), log_(std::make_shared<spdlog::logger>("kpatchd", sinks_.begin(), sinks_.end())),
      disabled_(loader::disabled_on_cmdline(ctx.config))
{
    log_->set_level(spdlog::level::trace);
    ctx_.notify = [this](std::string_view s) { log_->info("{}", s); };
}

std::shared_ptr<spdlog::logger> Manager::logger_for(const std::string &patch) const
{
    auto l = std::make_shared<spdlog::logger>(patch, sinks_.begin(), sinks_.end());
    l->set_level(log_->level());
    return l;
}

std::string Manager::run(const char *why)
{
    // Every reader returns errors as values; this is the last guard that keeps READY=1 coming
    // if something still throws (out of memory), so systemd does not wait out its timeout.
    try {
        return run_pass(why);
    } catch (const std::exception &e) {
        std::string status = fmt::format("{} stopped early: {}", why, e.what());
        log_->error("{}", status);
        return status;
    }
}

std::string Manager::run_pass(const char *why)
{
    std::string kver = loader::kernel_release(ctx_.config);
    if (disabled_)
        log_->warn("kpatch.enable=0 on the kernel command line: not loading any patch");
    else
        log_->info("{}: loading patches installed for {} from {}", why, kver, (ctx_.config.install_root / kver).string());
    loader::BootRecord record = loader::apply_installed(ctx_, disabled_);
    for (const auto &item : record.items) {
        auto l = logger_for(item.name);
        if (item.result == loader::BootResult::Failed)
            l->error("{}", item.error);
        else if (item.result == loader::BootResult::Loaded)
            l->info("Loaded patch '{}'", item.name);
        else
            l->debug("Patch '{}' is already loaded", item.name);
    }
    if (auto r = loader::write_boot_record(ctx_.config, record); !r)
        log_->error("Failed to record the boot pass in '{}': {}", ctx_.config.boot_record_path().string(), r.error().message);
    (record.items.empty() || std::all_of(record.items.begin(), record.items.end(), [](const auto &i) { return i.result != loader::BootResult::Failed; })
         ? log_->info("{}", record.status)
         : log_->warn("{}", record.status));
    return record.status;
}

std::string Manager::boot_pass()
{
    return run("boot pass");
}

std::string Manager::reconcile()
{
    return run("reconcile (SIGHUP)");
}

} // namespace kpatch::daemon
