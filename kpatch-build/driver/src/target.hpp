// Step "find target": which kernel, its config, its source and headers (licence:
// GPL-2.0-only).
#pragma once

#include <string>

#include "context.hpp"

namespace kpatch::driver {

struct Target {
    std::string release;          // e.g. 6.1.0-56-amd64
    std::string package_version;  // Debian version of the image (e.g. 6.1.192-2)
    std::string headers_dir;      // .config, .kernelvariables, Module.symvers
    std::string config;           // the config to build with
    std::string kernelvariables;  // Debian's .kernelvariables, empty when none
    std::string symvers;          // Module.symvers
    std::string source_tarball;   // Debian linux-source tarball (empty with --sourcedir)
    std::string source_id;        // what identifies the source (package version or dir)
    std::string sourcedir;        // --sourcedir, absolute
    std::string vmlinuz;          // /boot/vmlinuz-<release>, empty when absent
    std::string chosen_because;   // how the release was chosen, for the user
};

Expected<Target> find_target(const Context &ctx);

// Every installed linux-image-<release> (not -dbg) whose headers are installed too
// (/usr/src/linux-headers-<release>), oldest first (version order).
std::vector<std::string> installed_releases();

// Downloads PACKAGE=VERSION into cache/debs (once) and returns the .deb's path.
Expected<std::string> download_deb(const Context &ctx, const std::string &package,
                                   const std::string &version);

} // namespace kpatch::driver
