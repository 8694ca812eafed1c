// The install store: /var/lib/kpatch/<kver>/<name>.ko plus an `order` file (licence: GPL-2.0-only).
//
// The `order` file (one name per line, oldest first) is the commit point: a patch is
// installed exactly when it is listed there. Every write goes to a temporary file in the
// same directory, is fsynced, renamed over its target, and the directory fsynced, so a
// kill -9 at any moment leaves either the previous state or the new one.
#pragma once

#include <kpatch/expected.hpp>

#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace kpatch::loader {

struct InstalledPatch {
    std::string name;
    std::string kernel_release;
    std::filesystem::path path;
    int position = 0;  // 1 = installed first
};

class Store {
public:
    // Called after each durable step of a change, with the step's name; tests use it to
    // kill or fail the process between steps.
    using StepHook = std::function<void(std::string_view step)>;

    explicit Store(std::filesystem::path root, StepHook hook = {});

    const std::filesystem::path &root() const { return root_; }
    // The installed patches in order. A name the order file lists whose NAME.ko is missing
    // (or not a regular file) is left out and, when MISSING is given, named there.
    Expected<std::vector<InstalledPatch>> list(const std::string &kernel_release,
                                               std::vector<std::string> *missing = nullptr) const;
    Expected<std::vector<std::string>> releases() const;
    // The installed patch NAME. NotFound naming the order file when it does not list NAME,
    // or naming the module file when that is missing.
    Expected<InstalledPatch> find(const std::string &name, const std::string &kernel_release) const;
    // Why NAME, which the order file lists, is not installed: its module file is missing.
    std::string missing_file_reason(const std::string &name, const std::string &kernel_release) const;
    // Copies FILE (already opened and checked) in as NAME; reinstalling keeps its position.
    // A cumulative patch (REPLACE) takes the patches installed before it out of the order in
    // the same atomic write (their names go to REMOVED) and then deletes their files.
    Expected<InstalledPatch> install(int fd, const std::string &name, const std::string &kernel_release,
                                     bool replace = false, std::vector<std::string> *removed = nullptr);
    // Unlists NAME and removes its file; works when the file is already gone. Returns what it removed.
    Expected<InstalledPatch> uninstall(const std::string &name, const std::string &kernel_release);

private:
    void step(std::string_view name) const;
    Expected<std::vector<std::string>> read_order(const std::filesystem::path &dir) const;
    Error not_listed(const std::string &kernel_release) const;
    Expected<void> write_order(const std::filesystem::path &dir, const std::vector<std::string> &names) const;

    std::filesystem::path root_;
    StepHook hook_;
};

bool valid_patch_name(std::string_view name);

// Writes CONTENT to PATH atomically (temporary file in the same directory, fsync, rename,
// fsync of the directory). HOOK, when set, runs after each step.
Expected<void> write_file_atomic(const std::filesystem::path &path, std::string_view content,
                                 const Store::StepHook &hook = {});

} // namespace kpatch::loader
