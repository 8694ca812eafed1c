// kpatch-build as a library: from source patches to a patch module for one target
// kernel, as a fixed sequence of named steps (licence: GPL-2.0-only).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include <kpatch/driver/options.hpp>
#include <kpatch/expected.hpp>

namespace kpatch::driver {

// Exit codes of the program (a contract, see man/kpatch-build.1); Error::code carries
// them out of the library.
enum ExitCode : int {
    kExitOk = 0,
    kExitError = 1,       // bad input, missing package, build failure
    kExitUnsupported = 2, // the patch changes something a live patch cannot change
    kExitNoChange = 3,    // the patch changes no code that runs
};

// Progress, one event per step; the program prints them (or not, with -q).
struct StepEvent {
    std::string step;     // e.g. "prepare tree"
    std::string detail;   // what it did, one line
    double seconds = 0;   // wall time of the step
};
using ProgressFn = std::function<void(const StepEvent &)>;
// Notes worth showing even with -q (which kernel was chosen, skipped objects ...).
using NoteFn = std::function<void(const std::string &)>;

struct Reporter {
    ProgressFn step = [](const StepEvent &) {};
    NoteFn note = [](const std::string &) {};
};

struct BuildResult {
    std::string module_path;        // the .ko
    std::string package_path;       // the .deb with --deb, else empty
    std::string work_dir;           // kept with -d, else empty
    nlohmann::json summary;         // what --json prints
};

// Runs the whole flow. Errors carry kExitError / kExitUnsupported / kExitNoChange in
// Error::code.
Expected<BuildResult> build(const Options &options, const Reporter &reporter);

// --core-deb: kpatch-modules-KABI, the core module prebuilt for the target (a server has
// no compiler). Returns the package's path.
Expected<std::string> build_core_package(const Options &options, const Reporter &reporter);

// For programs: SIGINT, SIGTERM and SIGHUP stop a run at its current command (the signal
// is passed on to it), which then fails with "interrupted by SIG...", so every step's
// cleanup (work directory, temporary trees) runs as for any error. The program should
// then die of stop_signal() (0 when none came) for its parent to see.
void install_stop_handlers();
int stop_signal();

// Finds or prepares the kernel tree for the target (as `build` would) and returns its
// path: `kpatch-build --prepare-only`, and tests that need real kernel objects.
Expected<std::string> prepare_only(const Options &options, const Reporter &reporter);

// Finds or builds the core module (kpatch.ko) for the target's ABI, in the prepared tree
// of that kernel, and returns its path in the cache: `kpatch-build --core-only`, and
// the VM harness for a kernel other than the build tree's.
Expected<std::string> core_only(const Options &options, const Reporter &reporter);

} // namespace kpatch::driver
