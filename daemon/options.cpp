// kpatchd's command line (licence: GPL-2.0-only).
#include "options.hpp"

namespace kpatch::daemon {

const char *const kUsage =
    "Usage: kpatchd [OPTIONS]\n\n"
    "Loads every live patch installed for the running kernel, in installation order, then\n"
    "waits: SIGHUP loads newly installed patches, SIGTERM stops (patches stay loaded).\n"
    "Meant to run as kpatchd.service (Type=notify).\n\n"
    "Options:\n"
    "  -h, --help                  Show this help\n"
    "      --version               Show the version\n"
    "  -v, --verbose               Log debug messages too\n"
    "      --once                  Do the boot pass and exit\n"
    "      --no-nudge              Do not wake tasks asleep in a function being patched\n"
    "      --log-target=TARGET     journal, console or auto (journal under systemd)\n\n"
    "Exit status: 0 stopped cleanly (failed patches are reported, not fatal), 1 could not\n"
    "start, 2 usage error. See kpatchd(8).\n";

Expected<Options> parse_options(std::span<const std::string> args)
{
    Options o;
    for (const auto &a : args) {
        if (a == "-h" || a == "--help")
            o.help = true;
        else if (a == "--version")
            o.version = true;
        else if (a == "-v" || a == "--verbose")
            o.verbose = true;
        else if (a == "--once")
            o.once = true;
        else if (a == "--no-nudge")
            o.nudge = false;
        else if (a == "--log-target=journal")
            o.log_target = LogTarget::journal;
        else if (a == "--log-target=console")
            o.log_target = LogTarget::console;
        else if (a == "--log-target=auto")
            o.log_target = LogTarget::automatic;
        else
            return Error{"unknown argument '" + a + "'", 2};
    }
    return o;
}

} // namespace kpatch::daemon
