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
#include <kpatch/json_dump.hpp>

using namespace kpatch::driver;

namespace {

const char kUsage[] =
    "Usage: kpatch-build [options] PATCH...\n"
    "Builds a live patch module for a Debian kernel from source patches (several patches\n"
    "make one module).\n"
    "\n"
    "  -k, --kernel-release KVER  target kernel (default: the running kernel if its Debian\n"
    "                             packages are installed, else the newest installed one)\n"
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
    "      --prepare-only         only prepare the kernel tree; print its path\n"
    "      --deb                  also write kpatch-patch-NAME-KABI_VERSION_amd64.deb (needs\n"
    "                             -n NAME, a Debian package-name component)\n"
    "      --deb-version V        the package's version (default: 1)\n"
    "      --core-deb             write only kpatch-modules-KABI_VERSION_amd64.deb, the core\n"
    "                             module prebuilt for the target kernel (no PATCH)\n"
    "  -h, --help                 this text\n"
    "      --version              print the version\n"
    "\n"
    "Exit codes: 0 module built; 1 error; 2 the patch changes something a live patch\n"
    "cannot safely change; 3 the patch changes no code that runs.\n";

enum LongOnly { kKallsyms = 256, kCacheDir, kSignKey, kSignCert, kJson, kVersion, kPrepareOnly,
                kReplace, kDeb, kDebVersion, kCoreDeb };

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
        case 'k': opt.kernel_release = optarg; break;
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
    if (opt.core_deb && (!opt.patches.empty() || opt.deb || opt.prepare_only)) {
        std::cerr << "kpatch-build: --core-deb packages the core module only: no PATCH, --deb or "
                     "--prepare-only with it\n";
        return kExitError;
    }
    if (!opt.deb_version.empty() && !opt.deb && !opt.core_deb) {
        std::cerr << "kpatch-build: --deb-version goes with --deb or --core-deb\n";
        return kExitError;
    }
    if (opt.patches.empty() && !opt.prepare_only && !opt.core_deb) {
        std::cerr << "kpatch-build: no patch given\nTry 'kpatch-build --help'.\n";
        return kExitError;
    }
    if (opt.sign_key.empty() != opt.sign_cert.empty()) {
        std::cerr << "kpatch-build: --sign-key and --sign-cert go together\n";
        return kExitError;
    }
    if (!opt.kallsyms.empty() && !opt.vmlinux.empty()) {
        std::cerr << "kpatch-build: give --kallsyms or --vmlinux, not both\n";
        return kExitError;
    }
    return -1;
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
    if (opt.prepare_only) {
        auto tree = prepare_only(opt, reporter);
        if (!tree) {
            std::cerr << "kpatch-build: " << tree.error().message << "\n";
            return tree.error().code ? tree.error().code : kExitError;
        }
        std::cout << *tree << "\n";
        return kExitOk;
    }

    auto result = build(opt, reporter);
    // A signal after the module was in place does not undo it: the run is reported as
    // what it was, a success. Before that, the run stopped and cleaned up.
    if (int sig = stop_signal(); sig && !result) {
        // The work directory and temporaries are gone (or going); die of the signal as
        // the caller expects.
        std::cerr << "kpatch-build: " << result.error().message
                  << "; temporary files removed, no module written\n";
        std::signal(sig, SIG_DFL);
        std::raise(sig);
        return 128 + sig;
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
