// Runs kpatchctl's verbs and kpatchd's boot pass on one fuzzer input and judges the results (licence: GPL-2.0-only).
#include "harness.hpp"

#include <cli.hpp>
#include <manager.hpp>

#include <kpatch/loader/kernel.hpp>
#include <kpatch/loader/ops.hpp>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>
#include <spdlog/sinks/ostream_sink.h>

#include <algorithm>
#include <sstream>

namespace kpatch::fuzz {

namespace {

// The kernel as far as the loader can tell: every module loads, nothing changes in sysfs
// (so nothing counts as loaded, and every input reaches the same code).
class FakeKernel final : public loader::Kernel {
public:
    int finit_module(int, const std::string &) override { return 0; }
    int delete_module(const std::string &) override { return 0; }
    int modprobe(const std::string &) override { return 0; }
    void sleep(std::chrono::milliseconds) override {}
};

bool contains(const std::string &haystack, const std::string &needle)
{
    return haystack.find(needle) != std::string::npos;
}

std::string clip(const std::string &s)
{
    return s.size() > 400 ? s.substr(0, 400) + "..." : s;
}

} // namespace

void Harness::expect(bool ok, const std::string &operation, const std::string &problem)
{
    if (!ok)
        findings_.push_back({operation, problem});
}

Harness::Run Harness::run(std::vector<std::string> args)
{
    FakeKernel kernel;
    ctl::RunEnv env{config_, kernel, false};
    std::ostringstream out, err;
    ctl::Io io{out, err};
    Run r;
    ++tally_.operations;
    try {
        r.code = ctl::run(args, env, io);
    } catch (const std::exception &e) {
        findings_.push_back({fmt::format("kpatchctl {}", fmt::join(args, " ")), fmt::format("uncaught exception: {}", e.what())});
        r.code = -1;
    }
    r.out = out.str();
    r.err = err.str();
    if (r.code > 0)
        ++tally_.errors;
    return r;
}

void Harness::ctl(const std::string &verb, const std::string &target, const std::vector<std::string> &names, bool text_too)
{
    std::string op = fmt::format("kpatchctl --json {} {}", verb, target);
    Run j = run({"--json", verb, target});
    if (j.code < 0)
        return;
    auto doc = nlohmann::json::parse(j.out, nullptr, false);
    expect(!doc.is_discarded() && doc.is_object(), op, "output is not one JSON object: " + clip(j.out));
    if (j.code != 0 && doc.is_object()) {
        // verify's only failure without an error value: checks that fail (exit status 4).
        bool refused_checks = verb == "verify" && j.code == 4 && doc.contains("checks");
        if (!refused_checks) {
            std::string message = doc.value("error", std::string());
            expect(!message.empty(), op, fmt::format("exit status {} without an error message", j.code));
            bool named = std::any_of(names.begin(), names.end(), [&](const std::string &n) { return contains(message, n); });
            expect(message.empty() || named, op, fmt::format("the error does not name {}: {}", fmt::join(names, " or "), clip(message)));
        }
    }
    if (text_too) {
        Run t = run({verb, target});
        expect(t.code == j.code, "kpatchctl " + verb + " " + target,
               fmt::format("exit status {} in text form, {} with --json", t.code, j.code));
    }
}

void Harness::ctl_overview(const std::string &verb)
{
    Run j = run({"--json", verb});
    if (j.code < 0)
        return;
    auto doc = nlohmann::json::parse(j.out, nullptr, false);
    std::string op = "kpatchctl --json " + verb;
    expect(!doc.is_discarded() && doc.is_object(), op, "output is not one JSON object: " + clip(j.out));
    if (j.code != 0 && doc.is_object())
        expect(contains(doc.value("error", std::string()), config_.install_root.string()), op,
               "the error does not name the store: " + clip(doc.value("error", std::string())));
    run({"-v", verb});  // the text form, for its renderers
}

void Harness::boot_pass(bool record_required)
{
    FakeKernel kernel;
    loader::Context ctx{config_, kernel};
    std::ostringstream log;
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(log);
    ++tally_.operations;
    std::string status;
    try {
        daemon::Manager manager(ctx, {sink});
        status = manager.boot_pass();
    } catch (const std::exception &e) {
        findings_.push_back({"kpatchd boot pass", fmt::format("uncaught exception: {}", e.what())});
        return;
    }
    // Manager::run's last guard turns an exception into this status: one got out of the library.
    expect(!contains(status, "stopped early"), "kpatchd boot pass", "an exception escaped the loader: " + clip(status));
    auto record = loader::read_boot_record(config_);
    expect(record.has_value() || !record_required, "kpatchd boot pass", "the record it wrote does not read back");
    if (!record || (!record_required && record->status != status))  // an old record the pass could not replace
        return;
    expect(record->status == status, "kpatchd boot pass", "the record's status differs from the pass's");
    std::string store = (config_.install_root / config_.kernel_release).string();
    bool failed = false;
    for (const auto &item : record->items) {
        if (item.result != loader::BootResult::Failed)
            continue;
        failed = true;
        bool named = contains(item.error, store) || (item.name == "(store)" && contains(item.error, config_.run_dir.string()));
        expect(named, "kpatchd boot pass", fmt::format("patch {}: the error does not name {}: {}", item.name, store, clip(item.error)));
    }
    tally_.errors += failed;
}

} // namespace kpatch::fuzz
