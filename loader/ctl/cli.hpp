// kpatchctl's command line: options, the verb table and the dispatcher (licence: GPL-2.0-only).
// Kept out of main.cpp so unit tests can drive it.
#pragma once

#include <kpatch/expected.hpp>
#include <kpatch/loader/ops.hpp>

#include <nlohmann/json.hpp>

#include <iosfwd>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace kpatch::ctl {

enum class JsonMode { off, pretty, shortform };

struct Options {
    JsonMode json = JsonMode::off;
    bool quiet = false;
    int verbose = 0;
    bool help = false;
    bool version = false;
    bool all = false;                // unload --all
    std::optional<int> retries;      // --retries N
    bool no_nudge = false;           // --no-nudge (load, unload)
    std::string kernel_release;      // -k KVER (install, uninstall)
    std::string verb;
    std::vector<std::string> args;   // after the verb
};

struct Io {
    std::ostream &out;
    std::ostream &err;
};

struct Verb;
using Handler = int (*)(const Verb &verb, const Options &opts, loader::Context &ctx, Io &io);

struct Verb {
    std::string_view name;
    size_t min_args;
    size_t max_args;
    bool changes;              // needs root; takes the change lock
    Handler handler;
    std::string_view synopsis; // "load FILE|NAME"
    std::string_view summary;
    std::string_view help;     // verb-specific options and details
};

std::span<const Verb> verbs();
const Verb *find_verb(std::string_view name);
// The closest verb name for a typo, or empty.
std::string suggest_verb(std::string_view name);

// Parses argv[1..] into Options. Errors carry loader::kUsage.
Expected<Options> parse_args(std::span<const std::string> args);

struct RunEnv {
    loader::Config config;     // after environment overrides
    loader::Kernel &kernel;
    bool require_root = true;
};

// The whole program: parse, dispatch, render, map errors to exit codes.
int run(std::span<const std::string> args, RunEnv &env, Io &io);

// Renders DATA per MODE (pretty: indented; short: one line).
void print_json(std::ostream &out, const nlohmann::json &data, JsonMode mode);
// Prints an error (text on err; with --json also an object on out); returns the exit code.
int report(const Error &error, const Options &opts, Io &io);

} // namespace kpatch::ctl
