// The identity of the target kernel: its GNU build id and version string, so a patch
// module can be checked against the kernel it was built for (licence: GPL-2.0-only).
#pragma once

#include <string>

#include "context.hpp"
#include "target.hpp"

namespace kpatch::driver {

struct KernelId {
    std::string build_id;     // lowercase hex of NT_GNU_BUILD_ID, as in /sys/kernel/notes
    std::string version;      // "6.1.0-56-amd64 (debian-kernel@...) #1 SMP ... Debian ..."
    std::string source;       // where the build id came from
};

// From --vmlinux when given (its .notes), else from the target's vmlinuz: the version
// string from the bzImage header, the build id from the decompressed kernel's notes.
// Decompressing takes about a second, so the answer is cached per vmlinuz. Missing
// pieces are empty, not errors: the build id is recorded where known.
KernelId kernel_identity(const Context &ctx, const Target &target, const std::string &vmlinux);

// NT_GNU_BUILD_ID of an ELF file, lowercase hex; empty when absent.
std::string elf_build_id(const std::string &path);

} // namespace kpatch::driver
