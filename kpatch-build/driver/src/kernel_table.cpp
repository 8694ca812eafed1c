// The table of a multi-kernel run and its exit code (licence: GPL-2.0-only).
#include <kpatch/driver/kernel_table.hpp>

#include <cstdio>

#include "patchset.hpp"

namespace kpatch::driver {

KernelOutcome kernel_outcome(const std::string &release, const Expected<BuildResult> &result,
                             double seconds)
{
    KernelOutcome row{release, KernelResult::Built, kExitOk, "", seconds};
    if (result) {
        row.detail = result->module_path;
        return row;
    }
    const Error &err = result.error();
    row.detail = err.message;
    row.exit_code = err.code ? err.code : kExitError;
    if (err.code == kExitUnsupported)
        row.result = KernelResult::Refused;
    else if (err.code == kExitNoChange)
        row.result = KernelResult::NoChange;
    else if (is_does_not_apply(err))
        row.result = KernelResult::DoesNotApply;
    else
        row.result = KernelResult::Failed;
    return row;
}

const char *result_name(KernelResult result)
{
    switch (result) {
    case KernelResult::Built: return "built";
    case KernelResult::NoChange: return "no change";
    case KernelResult::DoesNotApply: return "does not apply";
    case KernelResult::Refused: return "refused";
    case KernelResult::Failed: return "failed";
    }
    return "failed";
}

namespace {

std::string first_line(const std::string &text)
{
    std::string line = text.substr(0, text.find('\n'));
    return line.size() > 160 ? line.substr(0, 157) + "..." : line;
}

} // namespace

std::string render_table(const std::vector<KernelOutcome> &rows)
{
    size_t width = 6; // "KERNEL"
    for (const auto &r : rows)
        width = std::max(width, r.release.size());
    std::string out;
    char buf[64];
    auto line = [&](const std::string &kernel, const std::string &result, const std::string &time,
                    const std::string &detail) {
        out += kernel + std::string(width - kernel.size() + 2, ' ');
        std::snprintf(buf, sizeof buf, "%-15s %7s  ", result.c_str(), time.c_str());
        out += buf + detail + "\n";
    };
    line("KERNEL", "RESULT", "TIME", "MODULE OR REASON");
    for (const auto &r : rows) {
        std::snprintf(buf, sizeof buf, "%.1fs", r.seconds);
        line(r.release, result_name(r.result), buf, first_line(r.detail));
    }
    return out;
}

nlohmann::json table_json(const std::vector<KernelOutcome> &rows)
{
    nlohmann::json kernels = nlohmann::json::array();
    for (const auto &r : rows) {
        nlohmann::json k = {{"kernel", r.release},
                            {"result", result_name(r.result)},
                            {"exit_code", r.exit_code},
                            {"seconds", r.seconds}};
        k[r.result == KernelResult::Built ? "module" : "reason"] = r.detail;
        kernels.push_back(std::move(k));
    }
    return {{"kernels", kernels}, {"exit_code", combined_exit_code(rows)}};
}

int combined_exit_code(const std::vector<KernelOutcome> &rows)
{
    if (rows.empty())
        return kExitError;
    for (const auto &r : rows)
        if (r.result != KernelResult::Built)
            return r.exit_code ? r.exit_code : kExitError;
    return kExitOk;
}

} // namespace kpatch::driver
