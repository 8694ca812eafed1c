// The maintainer scripts of the packages kpatch-build writes (licence: GPL-2.0-only).
//
// A patch package's scripts and the dpkg order they run in (Debian Policy 6.5, 6.6):
//  - install:  postinst configure       -> kpatchctl install -k KABI; load only when the
//                                          running kernel is KABI with the recorded build id
//  - remove:   prerm remove             -> unload (when loaded), then uninstall
//  - upgrade (same package, new version; the module name differs per version):
//              old prerm upgrade        -> nothing: the old patch stays live
//              new postinst configure   -> install + load the new module, THEN unload and
//                                          uninstall the old version's module (recorded
//                                          in /var/lib/kpatch/packages/PKG)
//  - a cumulative package that Conflicts/Replaces older patch packages:
//              dpkg removing the old one itself: old prerm remove in-favour NEW VER
//                                       -> nothing: the old patch stays live
//              apt removing it first (dpkg --remove, before the new one is unpacked):
//                                          old prerm remove, with nothing saying a
//                                          replacement is coming -> the unload is deferred:
//                                          the module name goes to a pending list and the
//                                          package activates the trigger "kpatch-unload"
//              new postinst configure   -> install + load the cumulative module: one
//                                          switch replaces the old patch (kpatchctl load
//                                          then unloads it, and install drops it from the
//                                          store's order)
//              kpatch's postinst triggered kpatch-unload, at the end of the apt run
//                                       -> unload and uninstall what is pending, unless
//                                          replaced already or owned by a package again
//    So the old patch's code is live until the new one has switched: no window.
#pragma once

#include <string>

namespace kpatch::driver::deb {

struct PatchScripts {
    std::string postinst, prerm, postrm;
};

// PACKAGE, KABI, MODULE (module name), FILE (the .ko's path on the server), BUILD_ID
PatchScripts patch_scripts(const std::string &package, const std::string &kernel_release,
                           const std::string &module, const std::string &file,
                           const std::string &build_id);

// The core package: depmod for its kernel after install and removal.
struct CoreScripts {
    std::string postinst, postrm;
};
CoreScripts core_scripts(const std::string &kernel_release);

} // namespace kpatch::driver::deb
