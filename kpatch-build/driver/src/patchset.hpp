// Steps "read patches" and "apply patches": what the patches touch, their hashes, and
// applying them to a hard-link copy of the prepared tree (licence: GPL-2.0-only).
#pragma once

#include <string>
#include <vector>

#include "context.hpp"

namespace kpatch::driver {

struct PatchFile {
    std::string path;                 // as given
    std::string sha256;
    std::vector<std::string> files;   // tree-relative paths it changes (after -p strip)
    std::vector<std::string> added;   // files it creates
    int strip = 1;                    // patch -p level
};

struct PatchSet {
    std::vector<PatchFile> patches;
    std::vector<std::string> files;   // union of every patch's files, in first-seen order
    std::string sha256;               // over every patch's hash, in order
};

// Reads the patches and the file names they touch; `tree` decides the -p level (git's
// a/ b/ prefixes or plain paths).
Expected<PatchSet> read_patches(const std::vector<std::string> &paths, const std::string &tree);

// Applies every patch, in order, to `tree` (a hard-link copy). The files named are first
// replaced by private copies, so no write can reach the pristine tree through a link
// whatever `patch` does; GNU patch itself also writes a new file and renames it over
// the old name. A patch that does not apply is an error quoting patch's own message
// (is_does_not_apply() tells it from other errors).
// What the error of a patch that does not apply says, after the patch's name.
inline constexpr const char *kDoesNotApply = " does not apply to ";
inline bool is_does_not_apply(const Error &e)
{
    return e.message.starts_with("patch ") && e.message.find(kDoesNotApply) != std::string::npos;
}

Expected<void> apply_patches(const PatchSet &set, const std::string &tree,
                             const std::string &source_name);

// Replaces `path` by a private copy of itself (breaks a hard link).
Expected<void> break_link(const std::string &path);

} // namespace kpatch::driver
