// kpatchd: reapplies installed live patches at boot; see kpatchd(8) (licence: GPL-2.0-only).
#include "journal_sink.hpp"
#include "manager.hpp"
#include "options.hpp"

#include <kpatch/loader/config.hpp>
#include <kpatch/loader/kernel.hpp>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <systemd/sd-daemon.h>

#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <iostream>

namespace {

// Sends STOPPING=1 on every way out of main once the service has started.
struct StoppingGuard {
    ~StoppingGuard() { sd_notify(0, "STOPPING=1"); }
};

spdlog::sink_ptr make_sink(kpatch::daemon::LogTarget target)
{
    using kpatch::daemon::LogTarget;
    bool journal = target == LogTarget::journal ||
                   (target == LogTarget::automatic && (std::getenv("JOURNAL_STREAM") || std::getenv("INVOCATION_ID")));
    if (journal)
        return std::make_shared<kpatch::daemon::PatchJournalSink>("kpatchd", "kpatchd");
    auto sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
    sink->set_pattern("kpatchd: [%n] %v");
    return sink;
}

int serve(kpatch::daemon::Manager &manager, bool once)
{
    sigset_t set;
    sigemptyset(&set);
    for (int s : {SIGHUP, SIGTERM, SIGINT})
        sigaddset(&set, s);
    sigprocmask(SIG_BLOCK, &set, nullptr);

    std::string status = manager.boot_pass();
    sd_notifyf(0, "READY=1\nSTATUS=%s", status.c_str());
    if (once)
        return 0;
    for (;;) {
        int sig = 0;
        if (sigwait(&set, &sig) != 0)
            continue;
        if (sig != SIGHUP) {
            manager.log()->info("Stopping; loaded patches stay loaded");
            return 0;
        }
        sd_notify(0, "RELOADING=1");
        status = manager.reconcile();
        sd_notifyf(0, "READY=1\nSTATUS=%s", status.c_str());
    }
}

} // namespace

int main(int argc, char **argv)
{
    std::vector<std::string> args(argv + 1, argv + argc);
    auto opts = kpatch::daemon::parse_options(args);
    if (!opts) {
        std::cerr << "kpatchd: " << opts.error().message << "\n" << kpatch::daemon::kUsage;
        return 2;
    }
    if (opts->help || opts->version) {
        std::cout << (opts->help ? kpatch::daemon::kUsage : "kpatchd " KPATCH_VERSION "\n");
        return 0;
    }
    StoppingGuard stopping;
    auto config = kpatch::loader::config_from_env({});
    config.nudge = opts->nudge;
    if (geteuid() != 0 && !std::getenv("KPATCH_INSTALL_ROOT")) {
        std::cerr << "kpatchd: must run as root (it loads kernel modules)\n";
        sd_notify(0, "STATUS=must run as root");
        return 1;
    }
    auto kernel = kpatch::loader::make_system_kernel();
    kpatch::loader::Context ctx{config, *kernel};
    kpatch::daemon::Manager manager(ctx, {make_sink(opts->log_target)});
    if (opts->verbose)
        manager.log()->set_level(spdlog::level::debug);
    else
        manager.log()->set_level(spdlog::level::info);
    return serve(manager, opts->once);
}
