// The operations kpatchctl verbs and kpatchd call; each returns its result as data (licence: GPL-2.0-only).
#pragma once

#include <kpatch/expected.hpp>
#include <kpatch/loader/config.hpp>
#include <kpatch/loader/kernel.hpp>
#include <kpatch/loader/module_file.hpp>
#include <kpatch/loader/states.hpp>
#include <kpatch/loader/store.hpp>
#include <kpatch/loader/sysfs.hpp>

#include <optional>
#include <string>
#include <vector>

namespace kpatch::loader {

struct Context {
    Config config;
    Kernel &kernel;
    Notify notify = [](std::string_view) {};
};

// --- load / unload ---------------------------------------------------------------------

struct LoadResult {
    std::string name;
    std::string path;
    int attempts = 0;
    bool core_loaded = false;  // this call loaded the core module first
    std::vector<std::string> nudged;  // tasks the core nudged to get the patch in ("comm/pid")
    // A cumulative patch: the patches it replaced (the core disabled them in its switch),
    // which load then unloads; a module that would not go is named in unload_errors.
    std::vector<std::string> replaced;
    std::vector<std::string> unload_errors;
};

// TARGET is a module file (contains '/' or ends in .ko) or the name of a patch installed for
// the running kernel.
Expected<LoadResult> load(Context &ctx, const std::string &target);
// Same, caller already holds the change lock (kpatchd's boot pass).
Expected<LoadResult> load_locked(Context &ctx, const std::string &target);

struct UnloadItem {
    std::string name;
    bool ok = false;
    std::string error;
};
struct UnloadResult {
    std::vector<UnloadItem> items;  // in the order they were tried
    std::optional<Error> error;     // the first failure, when any
};
Expected<UnloadResult> unload(Context &ctx, const std::string &name);
// Newest first; keeps going past a failure; the result's error is the first one.
Expected<UnloadResult> unload_all(Context &ctx);

// --- list ------------------------------------------------------------------------------

struct ListEntry {
    std::string name;
    ListState state = ListState::Installed;
    std::string kernel_release;
    bool loaded = false;
    bool installed = false;
    long order = 0;              // core's stacking order; 0 when not loaded
    int install_position = 0;    // 0 when not installed
    std::vector<FunctionState> functions;
    std::vector<ObjectState> objects;  // per patched object: applied now or pending
    std::string error;           // why it failed (kpatchd's boot record or sysfs last_error)
    bool replace = false;                       // loaded: a cumulative patch
    std::vector<std::string> replaced_patches;  // loaded: what its last enable replaced
    std::string replaced_by;                    // loaded: the cumulative patch that replaced it
};
struct ListResult {
    std::string kernel_release;
    bool core_loaded = false;
    std::vector<ListEntry> patches;
};
Expected<ListResult> list(const Context &ctx);

// --- install / uninstall ---------------------------------------------------------------

struct InstallResult {
    InstalledPatch patch;
    bool replaced = false;  // an older copy of the same name was installed
    // A cumulative patch: the patches installed before it, taken out of the order in the
    // same atomic write that added it (their files are then removed).
    std::vector<std::string> replaces;
};
Expected<InstallResult> install(Context &ctx, const std::string &file, const std::string &kernel_release,
                                const Store::StepHook &hook = {});
Expected<InstalledPatch> uninstall(Context &ctx, const std::string &name, const std::string &kernel_release);

// --- info / verify ---------------------------------------------------------------------

Expected<ModuleInfo> info(const Context &ctx, const std::string &target);

struct Check {
    std::string name;    // elf, vermagic, kernel-release, build-id, function:NAME, core, signature, ...
    CheckResult result = CheckResult::Skip;
    std::string detail;
};
struct VerifyResult {
    ModuleInfo module;
    std::string kernel_release;
    std::vector<Check> checks;
    bool ok() const;
};
Expected<VerifyResult> verify(const Context &ctx, const std::string &target);
// The build id of the running kernel from /sys/kernel/notes (hex), empty when unknown.
std::string running_build_id(const Config &config);

// --- status and the boot record --------------------------------------------------------

struct BootItem {
    std::string name;
    BootResult result = BootResult::Failed;  // replaced: before the newest cumulative patch
    std::string error;
};
struct BootRecord {
    std::string time;            // ISO 8601 UTC
    std::string kernel_release;
    bool enabled = true;         // false: kpatch.enable=0 on the kernel command line
    std::string reason;
    std::vector<BootItem> items;
    std::string status;          // the sd_notify STATUS= line
};
Expected<void> write_boot_record(const Config &config, const BootRecord &record);
std::optional<BootRecord> read_boot_record(const Config &config);

// Loads every patch installed for the running release in installation order, skipping the
// ones already loaded, and carries on past failures (kpatchd's boot pass and reconcile).
// DISABLED (kpatch.enable=0, read once at start: a live patch can change /proc/cmdline)
// loads nothing and records why.
BootRecord apply_installed(Context &ctx, bool disabled);
// "kpatch.enable=0" on the kernel command line.
bool disabled_on_cmdline(const Config &config);

struct StatusResult {
    std::string kernel_release;
    std::string build_id;
    bool core_loaded = false;
    ListResult list;
    std::optional<BootRecord> boot;
    std::vector<std::string> newer_kernels;  // installed kernel releases newer than the running one
    std::vector<std::string> notes;          // plain sentences for operators
};
Expected<StatusResult> status(const Context &ctx);

// Orders kernel releases like `sort -V` (exposed for tests).
int compare_versions(const std::string &a, const std::string &b);

} // namespace kpatch::loader
