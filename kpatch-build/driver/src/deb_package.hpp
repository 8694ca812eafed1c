// Steps "package" and "core package": Debian packages of a patch module and of the core
// module, built with dpkg-deb (no debhelper on the build host) (licence: GPL-2.0-only).
#pragma once

#include <string>

#include "context.hpp"
#include "deb_control.hpp"

namespace kpatch::driver::deb {

// -n and --deb-version of a --deb run, checked before anything is built: an error names
// the problem.
Expected<void> check_request(const Options &options);

// The package and module names for the target kernel (also checked: the release must fit
// in a package name).
struct Naming {
    std::string package, version, module;
};
Expected<Naming> naming(const Options &options, const std::string &kernel_release);

// The serial of this build (deb_control.hpp): SOURCE_DATE_EPOCH when set (reproducible
// builds), else now.
std::string build_serial();

// "Name <mail>" from $DEBFULLNAME and $DEBEMAIL (as dch does), else kpatch-build's own.
std::string maintainer();

// Writes the package of KO into OUT_DIR with a rename (a reader never sees half a
// package); returns its path. WORK is a scratch directory of the run.
Expected<std::string> write_patch_package(const PatchPackage &p, const std::string &ko,
                                          const std::string &work, const std::string &out_dir);
Expected<std::string> write_core_package(const CorePackage &p, const std::string &ko,
                                         const std::string &work, const std::string &out_dir);

} // namespace kpatch::driver::deb
