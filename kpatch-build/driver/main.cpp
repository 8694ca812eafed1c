// kpatch-build: turns the command line into Options, calls the driver library, prints
// progress and errors, and maps errors to the documented exit codes (licence:
// GPL-2.0-only).
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <getopt.h>
#include <iostream>
#include <string>

#include <kpatch/driver/driver.hpp>
#include <kpatch/driver/kernel_table.hpp>
#include <kpatch/json_dump.hpp>

using namespace kpatch::driver;

namespace {

const char kUsage[] =
    "Usage: kpatch-build [options] PATCH...\n"
    "Builds a live patch module for a Debian kernel from source patches (several patches\n"
    "make one module).\n"
    "\n"
    "  -k, --kernel-release KVER  target kernel (default: the running kernel if its Debian\n"
    "                             packages are installed, else the newest installed one);\n"
    "                             repeat it to build one module per kernel\n"
    "      --all-installed        one module per installed linux-image-* with headers\n"
    "  -s, --sourcedir DIR        kernel tree to use instead of Debian's linux-source\n"
    "  -c, --config FILE          kernel config (default: the headers package's .config)\n"
    "      --kallsyms FILE        the target's symbol table (a copy of /proc/kallsyms)\n"
    "  -v, --vmlinux FILE         an unstripped vmlinux instead (e.g. the -dbg package's)\n"
    "  -n, --name NAME            module name (default: kpatch-<first patch's name>)\n"
    "      --replace              a cumulative patch: when enabled it replaces every patch\n"
    "                             enabled before it (what it does not change reverts)\n"
    "  -o, --output DIR           where to put the module (default: current directory)\n"
    "  -j, --jobs N               parallel compile jobs (default: 2)\n"
    "      --cache-dir DIR        prepared trees and downloads (default:\n"
    "                             $KPATCH_CACHE_DIR or $XDG_CACHE_HOME/kpatch)\n"
    "  -d, --debug                keep the work directory and say where it is\n"
    "  -q, --quiet                no per-step progress lines\n"
    "      --sign-key KEY         sign the module with the kernel's sign-file ...\n"
    "      --sign-cert CERT       ... and this certificate\n"
    "      --json                 print a summary as JSON on stdout\n"
    "      --prepare-only         only prepare the kernel tree; print its path. With\n"
    "                             PATCHes, also build and cache the original objects\n"
    "                             they touch, in one make (later builds skip make)\n"
    "      --core-only            only build the core module (kpatch.ko) for the kernel;\n"
    "                             print its path\n"
    "      --deb                  also write kpatch-patch-NAME-KABI_VERSION_amd64.deb (needs\n"
    "                             -n NAME, a Debian package-name component)\n"
    "      --deb-version V        the package's version (default: 1)\n"
    "      --core-deb             write only kpatch-modules-KABI_VERSION_amd64.deb, the core\n"
    "                             module prebuilt for the target kernel (no PATCH)\n"
    "  -h, --help                 this text\n"
    "      --version              print the version\n"
    "\n"
    "With several kernels each module goes to OUTPUT/KVER/ and a table (or --json) says\n"
    "what became of each kernel.\n"
    "\n"
    "Exit codes: 0 module built (for every kernel); 1 error; 2 the patch changes something\n"
    "a live patch cannot safely change; 3 the patch changes no code that runs. With several\n"
    "kernels: the code of the first kernel that did not build.\n";

enum LongOnly { kKallsyms = 256, kCacheDir, kSignKey, kSignCert, kJson, kVersion, kPrepareOnly,
                kReplace, kCoreOnly, kAllInstalled, kDeb, kDebVersion, kCoreDeb };

// Parses argv into Options; returns an exit code when the program should stop here.
int parse(int argc, char **argv, Options &opt)
{
    static const option longopts[] = {
        {"kernel-release", required_argument, nullptr, 'k'},
        {"sourcedir", required_argument, nullptr, 's'},
        {"config", required_argument, nullptr, 'c'},
        {"kallsyms", required_argument, nullptr, kKallsyms},
        {"vmlinux", required_argument, nullptr, 'v'},
        {"name", required_argument, nullptr, 'n'},
        {"replace", no_argument, nullptr, kReplace},
        {"output", required_argument, nullptr, 'o'},
        {"jobs", required_argument, nullptr, 'j'},
        {"cache-dir", required_argument, nullptr, kCacheDir},
        {"debug", no_argument, nullptr, 'd'},
        {"quiet", no_argument, nullptr, 'q'},
        {"sign-key", required_argument, nullptr, kSignKey},
        {"sign-cert", required_argument, nullptr, kSignCert},
        {"json", no_argument, nullptr, kJson},
        {"prepare-only", no_argument, nullptr, kPrepareOnly},
        {"core-only", no_argument, nullptr, kCoreOnly},
        {"all-installed", no_argument, nullptr, kAllInstalled},
        {"deb", no_argument, nullptr, kDeb},
        {"deb-version", required_argument, nullptr, kDebVersion},
        {"core-deb", no_argument, nullptr, kCoreDeb},
        {"help", no_argument, nullptr, 'h'},
        {"version", no_argument, nullptr, kVersion},
        {nullptr, 0, nullptr, 0},
    };
    for (;;) {
        int c = getopt_long(argc, argv, "k:s:c:v:n:o:j:dqh", longopts, nullptr);
        if (c == -1)
            break;
        switch (c) {
        case 'k': opt.kernel_releases.emplace_back(optarg); break;
        case kAllInstalled: opt.all_installed = true; break;
        case 's': opt.sourcedir = optarg; break;
        case 'c': opt.config = optarg; break;
        case kKallsyms: opt.kallsyms = optarg; break;
        case 'v': opt.vmlinux = optarg; break;
        case 'n': opt.name = optarg; break;
        case kReplace: opt.replace = true; break;
        case 'o': opt.output_dir = optarg; break;
        case 'j': {
            char *end = nullptr;
            long n = std::strtol(optarg, &end, 10);
            if (!*optarg || *end || n < 1 || n > 1024) {
                std::cerr << "kpatch-build: -j needs a number from 1 to 1024, not '" << optarg
                          << "'\n";
                return kExitError;
            }
            opt.jobs = static_cast<unsigned>(n);
            break;
        }
        case kCacheDir: opt.cache_dir = optarg; break;
        case 'd': opt.debug = true; break;
        case 'q': opt.quiet = true; break;
        case kSignKey: opt.sign_key = optarg; break;
        case kSignCert: opt.sign_cert = optarg; break;
        case kJson: opt.json = true; break;
        case kPrepareOnly: opt.prepare_only = true; break;
        case kCoreOnly: opt.core_only = true; break;
        case kDeb: opt.deb = true; break;
        case kDebVersion: opt.deb_version = optarg; break;
        case kCoreDeb: opt.core_deb = true; break;
        case 'h': std::cout << kUsage; return kExitOk;
        case kVersion: std::cout << "kpatch-build " KPATCH_VERSION "\n"; return kExitOk;
        default: std::cerr << "Try 'kpatch-build --help'.\n"; return kExitError;
        }
    }
    for (int i = optind; i < argc; ++i)
        opt.patches.emplace_back(argv[i]);
    if (opt.core_deb && (!opt.patches.empty() || opt.deb || opt.prepare_only || opt.core_only)) {
        std::cerr << "kpatch-build: --core-deb packages the core module only: no PATCH, --deb, "
                     "--prepare-only or --core-only with it\n";
        return kExitError;
    }
    if (!opt.deb_version.empty() && !opt.deb && !opt.core_deb) {
        std::cerr << "kpatch-build: --deb-version goes with --deb or --core-deb\n";
        return kExitError;
    }
    if (opt.patches.empty() && !opt.prepare_only && !opt.core_only && !opt.core_deb) {
        std::cerr << "kpatch-build: no patch given\nTry 'kpatch-build --help'.\n";
        return kExitError;
    }
    if (opt.sign_key.empty() != opt.sign_cert.empty()) {
        std::cerr << "kpatch-build: --sign-key and --sign-cert go together\n";
        return kExitError;
    }
    // One kernel keeps the single-kernel run and its output (a path or the summary).
    if (opt.kernel_releases.size() == 1 && !opt.all_installed) {
        opt.kernel_release = opt.kernel_releases.front();
        opt.kernel_releases.clear();
    }
    bool many = !opt.kernel_releases.empty() || opt.all_installed;
    if (many && (opt.prepare_only || opt.core_only || opt.core_deb)) {
        std::cerr << "kpatch-build: --prepare-only, --core-only and --core-deb take one kernel (-k KVER)\n";
        return kExitError;
    }
    if (many && (!opt.kallsyms.empty() || !opt.vmlinux.empty())) {
        std::cerr << "kpatch-build: --kallsyms and --vmlinux are one kernel's symbols; give "
                     "one -k with them\n";
        return kExitError;
    }
    if (!opt.kallsyms.empty() && !opt.vmlinux.empty()) {
        std::cerr << "kpatch-build: give --kallsyms or --vmlinux, not both\n";
        return kExitError;
    }
    return -1;
}

// Dies of the signal that stopped the run, as its caller expects.
int die_of(int sig)
{
    std::signal(sig, SIG_DFL);
    std::raise(sig);
    return 128 + sig;
}

// Several kernels: the table (or JSON) on stdout, the first failing kernel's exit code.
int build_kernels(const Options &opt, const Reporter &reporter)
{
    auto rows = build_many(opt, reporter);
    if (!rows) {
        std::cerr << "kpatch-build: " << rows.error().message << "\n";
        return rows.error().code ? rows.error().code : kExitError;
    }
    if (opt.json)
        std::cout << kpatch::json_dump(table_json(*rows), 2) << "\n";
    else
        std::cout << render_table(*rows);
    if (int sig = stop_signal())
        return die_of(sig);
    return combined_exit_code(*rows);
}

} // namespace

int main(int argc, char **argv)
{
    Options opt;
    if (int code = parse(argc, argv, opt); code >= 0)
        return code;
    install_stop_handlers();

    // Progress goes to stderr so that stdout carries only the result (a path or JSON).
    Reporter reporter;
    if (!opt.quiet)
        reporter.step = [](const StepEvent &e) {
            std::fprintf(stderr, "kpatch-build: %-22s %6.1fs  %s\n", e.step.c_str(), e.seconds,
                         e.detail.c_str());
        };
    reporter.note = [](const std::string &text) {
        std::fprintf(stderr, "kpatch-build: %s\n", text.c_str());
    };

    if (opt.core_deb) {
        auto deb = build_core_package(opt, reporter);
        if (!deb) {
            std::cerr << "kpatch-build: " << deb.error().message << "\n";
            return kExitError;
        }
        std::cout << *deb << "\n";
        return kExitOk;
    }
    if (opt.prepare_only || opt.core_only) {
        auto path = opt.core_only ? core_only(opt, reporter) : prepare_only(opt, reporter);
        if (!path) {
            std::cerr << "kpatch-build: " << path.error().message << "\n";
            return path.error().code ? path.error().code : kExitError;
        }
        std::cout << *path << "\n";
        return kExitOk;
    }

    if (!opt.kernel_releases.empty() || opt.all_installed)
        return build_kernels(opt, reporter);

    auto result = build(opt, reporter);
    // A signal after the module was in place does not undo it: the run is reported as
    // what it was, a success. Before that, the run stopped and cleaned up.
    if (int sig = stop_signal(); sig && !result) {
        // The work directory and temporaries are gone (or going); die of the signal as
        // the caller expects.
        std::cerr << "kpatch-build: " << result.error().message
                  << "; temporary files removed, no module written\n";
        return die_of(sig);
    }
    if (!result) {
        const kpatch::Error &err = result.error();
        int code = err.code ? err.code : kExitError;
        if (opt.json)
            std::cout << kpatch::json_dump(nlohmann::json{{"result", "failed"}, {"exit_code", code},
                                        {"error", err.message}}, 2) << "\n";
        std::cerr << "kpatch-build: " << err.message << "\n";
        return code;
    }
    if (opt.json)
        std::cout << kpatch::json_dump(result->summary, 2) << "\n";
    else
        std::cout << result->module_path << "\n"
                  << (result->package_path.empty() ? "" : result->package_path + "\n");
    if (!result->work_dir.empty())
        std::cerr << "kpatch-build: work directory kept: " << result->work_dir << "\n";
    return kExitOk;
}
