// Work trees: partial hard-link copies of the prepared tree in which objects are built,
// and the guard that proves no build wrote through a link into the prepared tree
// (licence: GPL-2.0-only).
#pragma once

#include <string>
#include <time.h>
#include <vector>

#include "context.hpp"

namespace kpatch::driver {

// Makes `dest` a tree that builds like `pristine` without writing into it:
//  - hard-link copies (like `cp -al`) of the directories kbuild writes into on every
//    make (include, scripts, kernel, arch/$(SRCARCH), tools/objtool, tools/bpf) and of the
//    directories in `needed` (those of the objects to build and of the changed files);
//  - every other directory is a symbolic link to the pristine one (read only, in
//    practice: a single-object make never writes there), every other file a hard link;
//  - private copies of the files that kbuild rewrites in place on every make even when
//    nothing changed.
// About 20,000 links instead of 85,000: the copy and its removal take a fraction of
// the time of a full `cp -al`.
Expected<void> make_work_tree(const std::string &pristine, const std::string &dest,
                              const std::vector<std::string> &needed);

// Files of `tree` still shared with the prepared tree (link count > 1) whose contents
// changed at or after `since`: a build wrote through a hard link. Empty when clean.
std::vector<std::string> shared_files_written(const std::string &tree, const timespec &since);

// The current time, for `since`.
timespec now_realtime();

// Removes a work directory in a detached child, so the caller does not wait for tens of
// thousands of unlinks; the next run removes whatever a killed child left.
void remove_tree_in_background(const std::string &path);

} // namespace kpatch::driver
