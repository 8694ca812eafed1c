// kpatchctl's command line: options, the verb table and the one dispatcher (licence: GPL-2.0-only).
#include "cli.hpp"
#include "verbs.hpp"

#include <fmt/format.h>
#include <kpatch/json_dump.hpp>

#include <unistd.h>

#include <algorithm>
#include <array>
#include <ostream>

namespace kpatch::ctl {

using loader::kUsage;

namespace {

constexpr std::array kVerbs = {
    Verb{"load", 1, 1, true, verb_load, "load FILE|NAME", "Apply a patch module to the running kernel",
         "FILE is a module file (a path, or a name ending in .ko); NAME is a patch installed for the\n"
         "running kernel. A replaced function in use is retried (--retries N, default 5, 2 s apart).\n"
         "Tasks asleep interruptibly in a replaced function are nudged out of it (their system call\n"
         "restarts in the new code; --no-nudge turns this off) and named in the output.\n"
         "The core module kpatch is loaded first when needed.\n"},
    Verb{"unload", 0, 1, true, verb_unload, "unload NAME|--all", "Disable a patch and remove its module",
         "--all unloads every patch, newest first, and keeps going past a failure.\n"
         "Installed patches stay installed; kpatchd loads them again at the next boot.\n"},
    Verb{"list", 0, 0, false, verb_list, "list", "Show loaded and installed patches with their state",
         "States: enabled, disabled (loaded), installed (not loaded), failed (kpatchd could not load it).\n"
         "-v also lists each loaded patch's functions.\n"},
    Verb{"install", 1, 1, true, verb_install, "install FILE [-k KVER]", "Store a patch so kpatchd loads it at every boot",
         "Stores FILE in /var/lib/kpatch/KVER/ (default: the kernel it was built for must be the running\n"
         "one, or give -k KVER). Installing is atomic and records the installation order.\n"},
    Verb{"uninstall", 1, 1, true, verb_uninstall, "uninstall NAME [-k KVER]", "Remove an installed patch",
         "Does not unload it from the running kernel; use 'kpatchctl unload NAME' for that.\n"},
    Verb{"info", 1, 1, false, verb_info, "info NAME|FILE", "Show what a patch module replaces and what it was built for", ""},
    Verb{"verify", 1, 1, false, verb_verify, "verify FILE|NAME", "Check whether a patch would load on this kernel",
         "Checks kernel release, vermagic, build id, signature, and that every replaced function exists\n"
         "and is an ftrace location. Changes nothing. Exit status 0: it would load; 4: it would not.\n"},
    Verb{"status", 0, 0, false, verb_status, "status", "Show the running kernel, patches, kpatchd's boot pass and pending kernels", ""},
};

size_t edit_distance(std::string_view a, std::string_view b)
{
    std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
    for (size_t j = 0; j <= b.size(); ++j)
        prev[j] = j;
    for (size_t i = 1; i <= a.size(); ++i) {
        cur[0] = i;
        for (size_t j = 1; j <= b.size(); ++j)
            cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] != b[j - 1])});
        std::swap(prev, cur);
    }
    return prev[b.size()];
}

Error usage(std::string message)
{
    return Error{std::move(message), kUsage};
}

// Options that take a value: "--opt V" or "--opt=V".
Expected<std::string> option_value(std::span<const std::string> args, size_t &i, std::string_view name)
{
    const std::string &a = args[i];
    if (a.size() > name.size() && a[name.size()] == '=')
        return a.substr(name.size() + 1);
    if (i + 1 >= args.size())
        return usage(fmt::format("option '{}' needs a value", name));
    return args[++i];
}

Expected<void> parse_option(std::span<const std::string> args, size_t &i, Options &o)
{
    const std::string &a = args[i];
    auto is = [&](std::string_view name) { return a == name || (a.starts_with(name) && a.size() > name.size() && a[name.size()] == '='); };
    if (a == "-h" || a == "--help") {
        o.help = true;
    } else if (a == "--version") {
        o.version = true;
    } else if (a == "-q" || a == "--quiet") {
        o.quiet = true;
    } else if (a == "-v" || a == "--verbose") {
        ++o.verbose;
    } else if (a == "--no-nudge") {
        o.no_nudge = true;
    } else if (a == "--all") {
        o.all = true;
    } else if (a == "--json") {
        o.json = JsonMode::pretty;
    } else if (a.starts_with("--json=")) {
        std::string m = a.substr(7);
        if (m != "pretty" && m != "short" && m != "off")
            return usage(fmt::format("--json takes pretty, short or off, not '{}'", m));
        o.json = m == "pretty" ? JsonMode::pretty : m == "short" ? JsonMode::shortform : JsonMode::off;
    } else if (is("--retries")) {
        auto v = option_value(args, i, "--retries");
        if (!v)
            return v.error();
        char *end = nullptr;
        long n = std::strtol(v->c_str(), &end, 10);
        if (v->empty() || *end || n < 0 || n > 1000)
            return usage(fmt::format("--retries takes a number from 0 to 1000, not '{}'", *v));
        o.retries = static_cast<int>(n);
    } else if (a == "-k" || is("--kernel-release")) {
        auto v = option_value(args, i, a == "-k" ? "-k" : "--kernel-release");
        if (!v)
            return v.error();
        if (v->empty() || v->find('/') != std::string::npos || v->starts_with("."))
            return usage(fmt::format("'{}' is not a kernel release", *v));
        o.kernel_release = *v;
    } else {
        return usage(fmt::format("unknown option '{}'", a));
    }
    return {};
}

void print_usage(std::ostream &out)
{
    out << "Usage: kpatchctl [OPTIONS] VERB [ARGS]\n\nVerbs:\n";
    for (const auto &v : kVerbs)
        out << fmt::format("  {:<26} {}\n", v.synopsis, v.summary);
    out << "\nOptions:\n"
           "  -h, --help                 Show this help (after a verb: that verb's help)\n"
           "      --version              Show the version\n"
           "      --json[=pretty|short|off]  Print results as JSON\n"
           "  -q, --quiet                Print only errors\n"
           "  -v, --verbose              Print more detail\n"
           "      --retries N            load/unload: attempts after a busy refusal (default 5)\n"
           "      --no-nudge             load/unload: do not wake tasks asleep in a replaced function\n"
           "  -k, --kernel-release KVER  install/uninstall: the kernel the patch is for\n"
           "\nExit status: 0 success, 1 failure, 2 usage error, 3 not found, 4 refused (does not fit\n"
           "this kernel, untrusted file, or verify says it would not load), 5 busy.\n"
           "See kpatchctl(8).\n";
}

void print_verb_help(const Verb &v, std::ostream &out)
{
    out << fmt::format("Usage: kpatchctl [OPTIONS] {}\n\n{}.\n", v.synopsis, v.summary);
    if (!v.help.empty())
        out << "\n" << v.help;
}

Expected<void> check_args(const Verb &verb, const Options &o)
{
    if (o.args.size() < verb.min_args || o.args.size() > verb.max_args)
        return usage(fmt::format("'{}' takes {}; see 'kpatchctl {} --help'", verb.name, verb.synopsis, verb.name));
    if (verb.name == "unload" && o.all == !o.args.empty())
        return usage("'unload' takes either NAME or --all");
    if (o.all && verb.name != "unload")
        return usage(fmt::format("--all is an option of 'unload', not '{}'", verb.name));
    if (o.no_nudge && verb.name != "load" && verb.name != "unload")
        return usage(fmt::format("--no-nudge is an option of 'load' and 'unload', not '{}'", verb.name));
    if (!o.kernel_release.empty() && verb.name != "install" && verb.name != "uninstall")
        return usage(fmt::format("-k is an option of 'install' and 'uninstall', not '{}'", verb.name));
    return {};
}

int dispatch(const Verb &verb, const Options &o, RunEnv &env, Io &io)
{
    if (auto r = check_args(verb, o); !r)
        return report(r.error(), o, io);
    if (verb.changes && env.require_root && geteuid() != 0)
        return report(Error{fmt::format("Failed to {} '{}': must be run as root", verb.name,
                                        o.args.empty() ? std::string("--all") : o.args[0]), loader::kFailed}, o, io);
    loader::Context ctx{env.config, env.kernel, {}};
    if (o.retries)
        ctx.config.retries = *o.retries;
    if (o.no_nudge)
        ctx.config.nudge = false;
    ctx.notify = [&](std::string_view msg) {
        if (!o.quiet)
            io.err << msg << "\n";
    };
    return verb.handler(verb, o, ctx, io);
}

} // namespace

std::span<const Verb> verbs()
{
    return kVerbs;
}

const Verb *find_verb(std::string_view name)
{
    auto it = std::find_if(kVerbs.begin(), kVerbs.end(), [&](const Verb &v) { return v.name == name; });
    return it == kVerbs.end() ? nullptr : &*it;
}

std::string suggest_verb(std::string_view name)
{
    std::string best;
    size_t best_d = 3;  // more than two edits is not a typo
    for (const auto &v : kVerbs) {
        size_t d = v.name.starts_with(name) && !name.empty() ? 1 : edit_distance(name, v.name);
        if (d < best_d)
            best_d = d, best = v.name;
    }
    return best;
}

Expected<Options> parse_args(std::span<const std::string> args)
{
    Options o;
    bool only_positional = false;
    for (size_t i = 0; i < args.size(); ++i) {
        const std::string &a = args[i];
        if (!only_positional && a == "--") {
            only_positional = true;
        } else if (!only_positional && a.size() > 1 && a[0] == '-') {
            if (auto r = parse_option(args, i, o); !r)
                return r.error();
        } else if (o.verb.empty()) {
            o.verb = a;
        } else {
            o.args.push_back(a);
        }
    }
    return o;
}

void print_json(std::ostream &out, const nlohmann::json &data, JsonMode mode)
{
    out << kpatch::json_dump(data, mode == JsonMode::shortform ? -1 : 2) << "\n";
}

int report(const Error &error, const Options &opts, Io &io)
{
    int code = error.code ? error.code : loader::kFailed;
    io.err << error.message << "\n";
    if (opts.json != JsonMode::off)
        print_json(io.out, {{"error", error.message}, {"exit_code", code}}, opts.json);
    return code;
}

int run(std::span<const std::string> args, RunEnv &env, Io &io)
{
    auto parsed = parse_args(args);
    if (!parsed) {
        io.err << "kpatchctl: " << parsed.error().message << "\n";
        return kUsage;
    }
    const Options &o = *parsed;
    if (o.version) {
        io.out << "kpatchctl " << KPATCH_VERSION << "\n";
        return 0;
    }
    if (o.verb.empty()) {
        print_usage(o.help ? io.out : io.err);
        return o.help ? 0 : kUsage;
    }
    const Verb *verb = find_verb(o.verb);
    if (!verb) {
        std::string hint = suggest_verb(o.verb);
        io.err << fmt::format("kpatchctl: unknown verb '{}'{}\n", o.verb, hint.empty() ? "; see 'kpatchctl --help'" : ", did you mean '" + hint + "'?");
        return kUsage;
    }
    if (o.help) {
        print_verb_help(*verb, io.out);
        return 0;
    }
    return dispatch(*verb, o, env, io);
}

} // namespace kpatch::ctl
