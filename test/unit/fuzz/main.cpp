// loader-fuzz: seeded mutation fuzzing of what reads patch modules and the install store (licence: GPL-2.0-only).
//
// Each input is either a mutated patch module, given by path to kpatchctl info, verify, load
// and install, or a damaged /var/lib/kpatch tree (plus kpatchd's record), given to kpatchd's
// boot pass and to kpatchctl list, status, info, verify and load by name. The kernel is a
// fake that accepts every module, so the code runs up to the system call. Built with ASan
// and UBSan (no recovery): memory errors and undefined behaviour end the run with the
// input's number; an exception, a hang or an error that does not name the file is a finding.
// Input N depends only on (seed, N): `loader-fuzz --seed S --only N --verbose` replays it.
#include "files.hpp"
#include "harness.hpp"
#include "module_input.hpp"
#include "store_input.hpp"

#include <fmt/format.h>
#include <sanitizer/common_interface_defs.h>

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <fstream>
#include <iostream>
#include <sstream>

namespace fs = std::filesystem;
using namespace kpatch;
using namespace kpatch::fuzz;

namespace {

constexpr const char *kRelease = "6.1.0-56-amd64";
constexpr unsigned kInputTimeout = 60;  // seconds; TCG-slow machines and ASan included

// Said when the process dies (sanitizer report, timeout, std::terminate): which input it was.
char g_current[4096] = "before the first input";

void say_current()
{
    const char head[] = "\nloader-fuzz: died on ";
    (void)!::write(2, head, sizeof head - 1);
    (void)!::write(2, g_current, std::strlen(g_current));
    (void)!::write(2, "\n", 1);
}

void on_alarm(int)
{
    const char msg[] = "\nloader-fuzz: an input ran longer than the timeout (a hang)";
    (void)!::write(2, msg, sizeof msg - 1);
    say_current();
    ::_exit(3);
}

struct Options {
    std::uint64_t seed = 1;
    unsigned long iterations = 300;
    long only = -1;
    double seconds = 0;  // stop early after this long (0: no limit)
    bool verbose = false;
    bool keep = false;
    fs::path fixture_dir;
};

Options parse(int argc, char **argv)
{
    Options o;
    if (const char *d = std::getenv("KPATCH_FIXTURE_DIR"))
        o.fixture_dir = d;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) {
                std::cerr << "loader-fuzz: " << a << " needs a value\n";
                std::exit(2);
            }
            return argv[++i];
        };
        if (a == "--seed") o.seed = std::stoull(value());
        else if (a == "--iterations") o.iterations = std::stoul(value());
        else if (a == "--only") o.only = std::stol(value());
        else if (a == "--seconds") o.seconds = std::stod(value());
        else if (a == "--fixtures") o.fixture_dir = value();
        else if (a == "--verbose") o.verbose = true;
        else if (a == "--keep") o.keep = true;
        else {
            std::cerr << "usage: loader-fuzz [--seed N] [--iterations N] [--seconds S] [--only N] [--fixtures DIR] [--verbose] [--keep]\n"
                         "FUZZ_ITERATIONS in the environment overrides --iterations.\n";
            std::exit(2);
        }
    }
    if (const char *n = std::getenv("FUZZ_ITERATIONS"); n && *n)
        o.iterations = std::stoul(n);
    return o;
}

Fixtures read_fixtures(const fs::path &dir)
{
    Fixtures out;
    std::error_code ec;
    for (const auto &e : fs::directory_iterator(dir, ec)) {
        if (e.path().extension() != ".ko")
            continue;
        std::ifstream in(e.path(), std::ios::binary);
        std::ostringstream s;
        s << in.rdbuf();
        out.emplace_back(e.path().filename().string(), s.str());
    }
    std::sort(out.begin(), out.end());  // directory order is not deterministic
    return out;
}

// The kernel side, the same for every input: core loaded, the fixtures' functions in
// kallsyms and ftrace, the fixtures' build id in the notes, signatures not enforced.
loader::Config kernel_side(const fs::path &dir)
{
    loader::Config c;
    c.sysfs_root = dir / "sys/kernel/kpatch";
    c.sys_module_root = dir / "sys/module";
    c.kernel_notes = dir / "sys/kernel/notes";
    c.kallsyms = dir / "proc/kallsyms";
    c.cmdline = dir / "proc/cmdline";
    c.filter_functions = dir / "sys/kernel/tracing/available_filter_functions";
    c.sig_enforce = dir / "sys/module/module/parameters/sig_enforce";
    c.modules_root = dir / "lib/modules";
    c.kernel_release = kRelease;
    c.trusted_uid = ::getuid();
    c.retry_delay = std::chrono::milliseconds(0);
    fs::create_directories(c.sysfs_root);
    fs::create_directories(c.sys_module_root);
    fs::create_directories(c.modules_root);
    std::string kallsyms;
    for (const char *f : {"cmdline_proc_show", "s_show", "s_show", "version_proc_show", "uptime_proc_show"})
        kallsyms += fmt::format("ffffffff81000000 t {}\n", f);
    write_file(c.kallsyms, kallsyms);
    write_file(c.filter_functions, "cmdline_proc_show\ns_show\nversion_proc_show\nuptime_proc_show\n");
    write_file(c.kernel_notes, std::string("\x04\0\0\0\x04\0\0\0\x03\0\0\0GNU\0\x01\x23\xab\xcd", 20));
    write_file(c.cmdline, "BOOT_IMAGE=/vmlinuz root=/dev/vda\n");
    write_file(c.sig_enforce, "N\n");
    return c;
}

struct Counts {
    unsigned long inputs = 0, module_inputs = 0, store_inputs = 0, setup_skipped = 0;
};

void run_module_input(Harness &h, const loader::Config &c, const Fixtures &fixtures, const fs::path &in, Rng &rng,
                      std::string &what)
{
    static const std::vector<std::string> names = {"kpatch-fuzz.ko", "kpatch_fuzz.ko", "fuzz.ko", "x.ko"};
    fs::path file = in / "modules" / rng.pick(names);
    write_file(file, mutated_module(fixtures, kRelease, rng, what));
    if (rng.percent(20))
        make_odd(file, in / "outside", rng, what);
    bool text = rng.percent(30);
    std::vector<std::string> named = {file.string()};
    for (const char *verb : {"info", "verify", "load", "install"})
        h.ctl(verb, file.string(), named, text);
    (void)c;
}

void run_store_input(Harness &h, const loader::Config &c, const Fixtures &fixtures, const fs::path &in, Rng &rng,
                     std::string &what)
{
    StoreInput s = make_store(c, fixtures, in / "outside", rng);
    what = s.what;
    h.boot_pass(!s.run_dir_damaged);
    h.ctl_overview("list");
    h.ctl_overview("status");
    // The store, or the change lock under the run directory (load takes it first).
    std::vector<std::string> store = {(c.install_root / c.kernel_release).string(), c.run_dir.string()};
    bool text = rng.percent(30);
    for (const auto &name : s.names)
        for (const char *verb : {"info", "verify", "load"})
            h.ctl(verb, name, store, text);
    // Installing into the damaged store: the error names the store or the new module.
    fs::path good = in / "modules" / "kpatch-fuzz-good.ko";
    write_file(good, synthetic_module("kpatch_fuzz_good", kRelease));
    h.ctl("install", good.string(), {good.string(), c.install_root.string(), c.run_dir.string()}, false);
}

} // namespace

int main(int argc, char **argv)
{
    Options o = parse(argc, argv);
    __sanitizer_set_death_callback(say_current);
    std::set_terminate([] {
        say_current();
        std::abort();
    });
    ::signal(SIGALRM, on_alarm);
    ::signal(SIGPIPE, SIG_IGN);
    ::umask(022);

    Fixtures fixtures = read_fixtures(o.fixture_dir);
    if (fixtures.empty()) {
        // Not a skip: without seeds the run would prove nothing, and meson builds them.
        std::cerr << "loader-fuzz: no fixture modules (*.ko) in '" << o.fixture_dir.string()
                  << "'; set KPATCH_FIXTURE_DIR or --fixtures to the loader tests' build directory\n";
        return 1;
    }
    std::string tmpl = (fs::temp_directory_path() / "kpatch-fuzz-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) {
        std::perror("loader-fuzz: mkdtemp");
        return 1;
    }
    fs::path work = tmpl;
    loader::Config base = kernel_side(work / "kernel");

    Tally tally;
    Counts counts;
    std::vector<std::string> report;
    auto start = std::chrono::steady_clock::now();
    unsigned long first = o.only >= 0 ? o.only : 0, last = o.only >= 0 ? o.only + 1 : o.iterations;
    for (unsigned long i = first; i < last; ++i) {
        double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        if (o.seconds > 0 && elapsed > o.seconds) {
            std::cerr << fmt::format("loader-fuzz: stopping after {:.0f} s (--seconds)\n", elapsed);
            break;
        }
        Rng rng = Rng::for_input(o.seed, i);
        fs::path in = work / "in";
        std::error_code ec;
        fs::remove_all(in, ec);
        loader::Config c = base;
        c.install_root = in / "var/lib/kpatch";
        c.run_dir = in / "run/kpatch";
        Harness h(c, tally);
        std::snprintf(g_current, sizeof g_current, "input %lu of seed %llu (replay: loader-fuzz --seed %llu --only %lu --verbose)",
                      i, static_cast<unsigned long long>(o.seed), static_cast<unsigned long long>(o.seed), i);
        std::string what;
        bool module_input = rng.percent(50);
        ::alarm(kInputTimeout);
        try {
            if (module_input)
                run_module_input(h, c, fixtures, in, rng, what);
            else
                run_store_input(h, c, fixtures, in, rng, what);
        } catch (const std::exception &e) {
            // Only the fuzzer's own setup throws here: Harness catches what the loader throws.
            ++counts.setup_skipped;
            if (o.verbose)
                std::cerr << fmt::format("input {}: setup failed ({}): {}\n", i, e.what(), what);
        }
        ::alarm(0);
        ++counts.inputs;
        ++(module_input ? counts.module_inputs : counts.store_inputs);
        if (o.verbose)
            std::cerr << fmt::format("input {}: {}: {}\n", i, module_input ? "module" : "store", what);
        for (const auto &f : h.findings())
            report.push_back(fmt::format("input {} ({}): {}: {}", i, what.substr(0, 300), f.operation, f.problem));
    }
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (!o.keep)
        fs::remove_all(work);
    for (size_t k = 0; k < report.size() && k < 50; ++k)
        std::cerr << "FINDING: " << report[k] << "\n";
    std::cout << fmt::format("loader-fuzz: seed {}: {} inputs ({} module files, {} stores; {} setups skipped), "
                             "{} operations, {} returned errors, {} findings, {:.1f} s\n",
                             o.seed, counts.inputs, counts.module_inputs, counts.store_inputs, counts.setup_skipped,
                             tally.operations, tally.errors, report.size(), secs);
    return report.empty() ? 0 : 1;
}
