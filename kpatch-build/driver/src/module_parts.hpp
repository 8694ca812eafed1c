// Which module a kernel object belongs to, and the target's own .ko of that module
// (licence: GPL-2.0-only).
#pragma once

#include <map>
#include <string>

#include "context.hpp"
#include "target.hpp"

namespace kpatch::driver {

// The module `object` (tree-relative, e.g. fs/ext4/inode.o) was built for, as kbuild
// recorded it in `<tree>/fs/ext4/.inode.o.cmd`: KBUILD_MODNAME when the command line has
// -DMODULE, else "" (a part of vmlinux). A missing .cmd file is an error.
Expected<std::string> module_of_object(const std::string &tree, const std::string &object);

// The .ko files of the target kernel's modules, by module name ("ext4", "nf_tables"):
// the installed /lib/modules/<release>/kernel, else the linux-image-<release> package of
// the target's exact version, unpacked into the cache.
class TargetModules {
public:
    TargetModules(const Context &ctx, const Target &target) : ctx_(ctx), target_(target) {}
    Expected<std::string> ko(const std::string &module);
    // Where kbuild built it, tree-relative and without ".ko" ("fs/minix/minix"): its
    // <module>.mod lists the objects in link order. Read off the installed path.
    Expected<std::string> kbuild_path(const std::string &module);
    // The target's vmlinuz from its image package of the exact version, unpacked into the
    // cache: the build id of a kernel that is not installed here.
    Expected<std::string> image_vmlinuz();

private:
    Expected<std::string> modules_dir();
    Expected<std::string> unpacked_image();
    const Context &ctx_;
    const Target &target_;
    std::string dir_;
    std::map<std::string, std::string> index_;   // module name -> .ko path
};

} // namespace kpatch::driver
