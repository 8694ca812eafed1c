// Compiling one object with the command kbuild recorded for it, without make
// (licence: GPL-2.0-only).
//
// A `make dir/file.o` in a work tree spends 4 to 9 s before the compiler starts (it walks
// the top Makefile, checks the prepare stage, descends into objtool and resolve_btfids)
// for a compile of 0.4 s. kbuild writes the exact command it ran into .file.o.cmd. A
// command is trusted only after it was proven: run again in the tree where make had just
// built the object, it must produce the same bytes. Proven commands are kept beside the
// cached original objects, and the patched side of later builds runs them directly.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "tree.hpp"

namespace kpatch::driver {

// The first line of kbuild's record for OBJECT in TREE (.NAME.o.cmd), without its
// "cmd_OBJECT := " (or 6.3's "savedcmd_OBJECT := ") prefix, when it is a compile this
// module can rerun: it names OBJECT as its output (" -o OBJECT ") and its parts after the
// compiler are objtool on OBJECT only. nullopt otherwise.
std::optional<std::string> recorded_command(const std::string &tree, const std::string &object);

// Where a proven command for OBJECT is kept: beside its cached original.
std::string cached_command_path(const PreparedTree &tree, const std::string &object);
// The proven command kept for OBJECT, checked again as recorded_command checks (a cache
// written by another version is not trusted blindly); nullopt when there is none.
std::optional<std::string> cached_command(const PreparedTree &tree, const std::string &object);

// After make built OBJECT in TREE: reruns the recorded command there (with ENV added to
// the environment) and keeps it in CACHE_FILE if it reproduced make's object byte for
// byte. Make's object is left in place either way. Returns whether it was kept; failures
// only lose the speed-up, so they are written to LOG and not returned.
bool prove_command(const std::string &tree, const std::string &object,
                   const std::map<std::string, std::string> &env,
                   const std::string &cache_file, const std::string &log);

// Compiles each object of COMMANDS (object -> command) in TREE, JOBS at a time, writing the
// object and kbuild's .cmd record for it as make would. Returns the objects whose command
// failed (their output is in LOG); the caller builds those with make.
std::vector<std::string> compile_directly(const std::string &tree,
                                          const std::map<std::string, std::string> &commands,
                                          const std::map<std::string, std::string> &env,
                                          unsigned jobs, const std::string &log);

} // namespace kpatch::driver
