// The result of a multi-kernel run (`kpatch-build -k A -k B ...`): one row per kernel,
// rendered as a table or JSON, and the run's exit code (licence: GPL-2.0-only).
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include <kpatch/driver/driver.hpp>

namespace kpatch::driver {

enum class KernelResult {
    Built,         // the module is in <output>/<release>/
    NoChange,      // the patch changes no code that runs on this kernel (exit 3)
    DoesNotApply,  // the patch does not apply to this kernel's source (exit 1)
    Refused,       // the differ refused a change a live patch cannot make (exit 2)
    Failed,        // anything else (exit 1, or the error's own code)
};

struct KernelOutcome {
    std::string release;
    KernelResult result = KernelResult::Failed;
    int exit_code = kExitError;
    std::string detail;    // the module's path when built, else the error message
    double seconds = 0;
};

// Builds the patch for each kernel of options.kernel_releases (and, with all_installed,
// every installed linux-image-* whose headers are installed), one after the other under
// one cache lock, each module into <output>/<release>/. One kernel's failure does not
// stop the others; the rows say what happened to each. An Error only when no kernel
// could be tried (no kernel at all, the cache lock). Prepared trees and cores stay
// cached per kernel, so a second run for the same kernels rebuilds only the patch.
Expected<std::vector<KernelOutcome>> build_many(const Options &options, const Reporter &reporter);

// Classifies one kernel's run.
KernelOutcome kernel_outcome(const std::string &release, const Expected<BuildResult> &result,
                             double seconds);

// "built", "no change", "does not apply", "refused", "failed".
const char *result_name(KernelResult result);

// A fixed-width table (KERNEL, RESULT, TIME, and the module or the reason: the error's
// first line), one line per kernel in the order given.
std::string render_table(const std::vector<KernelOutcome> &rows);

// {"kernels": [{"kernel", "result", "exit_code", "seconds", "module"|"reason"}], "exit_code"}
nlohmann::json table_json(const std::vector<KernelOutcome> &rows);

// 0 when every kernel built; else the exit code of the first kernel (in the order given)
// that did not, so a single-kernel script reading 2 / 3 keeps its meaning. No kernel at
// all is an error (1).
int combined_exit_code(const std::vector<KernelOutcome> &rows);

} // namespace kpatch::driver
