// The control data of the Debian packages kpatch-build writes (kpatch-patch-NAME-KABI and
// kpatch-modules-KABI): names, versions and relations, as plain functions of plain data
// so every rule can be tested without building anything (licence: GPL-2.0-only).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <kpatch/expected.hpp>

namespace kpatch::driver::deb {

// Where a package puts the module it ships: outside /lib/modules, so depmod and modprobe
// never see a patch module (kpatchctl install copies it into the store).
inline constexpr const char *kPatchDir = "/usr/lib/kpatch/packages";

// What a patch package is made of; the caller fills it from the run.
struct PatchPackage {
    std::string name;            // -n NAME: the package-name component
    std::string version;         // --deb-version (default "1")
    std::string kernel_release;  // KABI, e.g. 6.1.0-57-amd64
    std::string image_version;   // Debian version of linux-image-KABI, e.g. 6.1.192-3
    std::string serial;          // build order, YYYYMMDDHHMMSS UTC (see serial_for)
    bool replace = false;        // --replace: a cumulative patch
    std::string build_id;        // the kernel's GNU build id, lowercase hex
    std::string module;          // the module name (module_name)
    std::uint64_t installed_kib = 0;
    std::string maintainer;      // "Name <mail>"
    std::vector<std::string> patches;    // the patch files' base names
    std::vector<std::string> functions;  // what it replaces ("name" or "name,pos")
};

// NAME must fit in a Debian package name: lowercase letters, digits, '+', '-', '.',
// starting with a letter or digit. The error names the offending character.
Expected<void> check_name(const std::string &name);
// A Debian version: [EPOCH:]UPSTREAM[-REVISION], UPSTREAM starting with a digit, only
// letters, digits and . + ~ - (and the epoch's colon).
Expected<void> check_version(const std::string &version);
// The kernel release must itself be usable in a package name (Debian's are).
Expected<void> check_kernel_release(const std::string &release);

// kpatch-patch-NAME-KABI
std::string package_name(const std::string &name, const std::string &kernel_release);
// The virtual package every patch package for KABI provides, versioned by its serial:
// a cumulative package conflicts with the ones built before it.
std::string virtual_name(const std::string &kernel_release);
// kpatch-modules-KABI
std::string core_package_name(const std::string &kernel_release);
// The module name: kpatch-NAME-vVERSION with the version's . + ~ : spelt _ p t e, so two
// versions of one package are two modules and a newer one can load while the older is
// live. An error when it would not fit in a module name (55 characters).
Expected<std::string> module_name(const std::string &name, const std::string &version);
// kpatch-patch-NAME-KABI_VERSION_amd64.deb (the epoch left out, as dpkg-deb names files)
std::string file_name(const std::string &package, const std::string &version);
// YYYYMMDDHHMMSS (UTC) of a time in seconds since the epoch.
std::string serial_for(std::int64_t epoch_seconds);

// The DEBIAN/control file of a patch package.
std::string patch_control(const PatchPackage &p);

// The core module for one ABI, prebuilt (a server has no compiler).
struct CorePackage {
    std::string kernel_release;
    std::string image_version;
    std::string version;         // the kpatch version the core was built from
    std::uint64_t installed_kib = 0;
    std::string maintainer;
};
std::string core_control(const CorePackage &p);

} // namespace kpatch::driver::deb
