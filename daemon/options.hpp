// kpatchd's command line (licence: GPL-2.0-only).
#pragma once

#include <kpatch/expected.hpp>

#include <span>
#include <string>

namespace kpatch::daemon {

enum class LogTarget { automatic, journal, console };

struct Options {
    bool help = false;
    bool version = false;
    bool verbose = false;
    bool once = false;  // the boot pass, then exit (no READY wait for signals)
    bool nudge = true;  // let the core nudge tasks asleep in a function being switched
    LogTarget log_target = LogTarget::automatic;
};

Expected<Options> parse_options(std::span<const std::string> args);
extern const char *const kUsage;

} // namespace kpatch::daemon
