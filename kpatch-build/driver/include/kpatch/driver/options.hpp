// What a kpatch-build run is asked to do: the command line as plain data (licence:
// GPL-2.0-only). main.cpp fills it; the library never reads argv or the environment
// except where documented (cache location, tool overrides).
#pragma once

#include <string>
#include <vector>

namespace kpatch::driver {

struct Options {
    std::vector<std::string> patches;   // PATCH... (at least one unless prepare_only)
    std::string kernel_release;         // -k; empty = choose (running kernel or newest)
    // Several -k, or --all-installed: one module per kernel (build_many); kernel_release
    // is then ignored.
    std::vector<std::string> kernel_releases;
    bool all_installed = false;         // --all-installed: every linux-image-* with headers
    std::string sourcedir;              // -s; empty = Debian linux-source of the target
    std::string config;                 // -c; empty = headers package's .config
    std::string kallsyms;               // --kallsyms
    std::string vmlinux;                // -v / --vmlinux
    std::string name;                   // -n; empty = kpatch-<first patch basename>
    bool replace = false;               // --replace: a cumulative patch (kpatch.h)
    std::string output_dir;             // -o; empty = current directory
    unsigned jobs = 0;                  // -j; 0 = min(2, cores)
    std::string cache_dir;              // --cache-dir; empty = $KPATCH_CACHE_DIR or XDG
    bool debug = false;                 // -d: keep the work directory
    bool quiet = false;                 // -q: no per-step lines
    bool json = false;                  // --json: summary on stdout
    bool prepare_only = false;          // --prepare-only: print the prepared tree's path
    bool core_only = false;             // --core-only: print the path of the target's kpatch.ko
    std::string sign_key, sign_cert;    // --sign-key / --sign-cert
    bool deb = false;                   // --deb: also kpatch-patch-NAME-KABI_V_amd64.deb
    std::string deb_version;            // --deb-version; empty = "1" (the core: KPATCH_VERSION)
    bool core_deb = false;              // --core-deb: only kpatch-modules-KABI_V_amd64.deb
};

} // namespace kpatch::driver
