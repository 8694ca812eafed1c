// Runs kpatchctl's verbs and kpatchd's boot pass on one fuzzer input and judges the results (licence: GPL-2.0-only).
#pragma once

#include <kpatch/loader/config.hpp>

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace kpatch::fuzz {

// What an input broke: an operation and why its result is wrong.
struct Finding {
    std::string operation;
    std::string problem;
};

struct Tally {
    unsigned long operations = 0;
    unsigned long errors = 0;  // operations that failed with an error value (expected: inputs are broken)
};

class Harness {
public:
    Harness(loader::Config config, Tally &tally) : config_(std::move(config)), tally_(tally) {}

    // kpatchctl --json VERB TARGET (and, when TEXT_TOO, the same in text form): a failure must
    // be an error whose message contains one of NAMES (paths), and both forms must agree on
    // the exit code.
    void ctl(const std::string &verb, const std::string &target, const std::vector<std::string> &names, bool text_too);
    // kpatchctl --json list / status: output must be JSON; an error must name the store.
    void ctl_overview(const std::string &verb);
    // kpatchd's boot pass with a fake kernel: every failed patch's error names the store
    // directory (or the run directory, for the lock); the pass must not stop early on an
    // exception; the record it wrote reads back with its status (when RECORD_REQUIRED; else
    // the run directory may be broken so that it cannot be written).
    void boot_pass(bool record_required);

    const std::vector<Finding> &findings() const { return findings_; }

private:
    struct Run {
        int code = 0;
        std::string out, err;
    };
    Run run(std::vector<std::string> args);
    void expect(bool ok, const std::string &operation, const std::string &problem);

    loader::Config config_;
    Tally &tally_;
    std::vector<Finding> findings_;
};

} // namespace kpatch::fuzz
