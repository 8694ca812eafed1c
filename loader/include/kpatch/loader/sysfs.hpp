// Reads the core module's state under /sys/kernel/kpatch (doc/interfaces.md) (licence: GPL-2.0-only).
#pragma once

#include <kpatch/expected.hpp>
#include <kpatch/loader/config.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kpatch::loader {

struct FunctionState {
    std::string object;    // "vmlinux" or a module name
    std::string name;
    unsigned long sympos = 0;
    std::string old_addr;  // empty when unreadable (the files are root-only)
    std::string new_addr;
    bool active = false;
};

// <patch>/<object>/: "applied", "pending" or "disabled".
struct ObjectState {
    std::string name;
    std::string state;
};

// "<patch> <op> <errno-name>: <message>"
struct LastError {
    std::string patch;
    std::string op;
    std::string errno_name;
    std::string message;
};

struct PatchState {
    std::string name;
    bool enabled = false;
    long order = 0;
    std::vector<ObjectState> objects;      // by name
    std::vector<FunctionState> functions;  // by object, then name and position
    std::string last_error;  // raw line, empty when none
    bool replace = false;                      // a cumulative patch
    std::vector<std::string> replaced_patches;  // what its last enable replaced
    std::string replaced_by;                   // the cumulative patch that replaced it
};

bool core_loaded(const Config &config);
// Every patch directory, oldest first (by `order`). No core module: an empty list.
Expected<std::vector<PatchState>> read_patches(const Config &config);
// The patch named NAME; "-" and "_" are the same in module names. NotFound when absent.
Expected<PatchState> read_patch(const Config &config, std::string_view name);
std::string read_last_error(const Config &config);

std::optional<LastError> parse_last_error(std::string_view line);
// A function directory's name, "<function>,<sympos>"; nullopt when it is not one.
struct FunctionDirName {
    std::string name;
    unsigned long sympos = 0;
};
std::optional<FunctionDirName> parse_function_dir(std::string_view dirname);
// The kernel's module name for NAME (dashes become underscores, as kbuild does).
std::string module_name(std::string_view name);

} // namespace kpatch::loader
