// What a patch module file says about itself: modinfo, kpatch manifest, signature (licence: GPL-2.0-only).
#pragma once

#include <kpatch/expected.hpp>

#include <nlohmann/json.hpp>

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace kpatch::loader {

// Owns a file descriptor.
class UniqueFd {
public:
    UniqueFd() = default;
    explicit UniqueFd(int fd) : fd_(fd) {}
    UniqueFd(UniqueFd &&other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
    UniqueFd &operator=(UniqueFd &&other) noexcept;
    UniqueFd(const UniqueFd &) = delete;
    UniqueFd &operator=(const UniqueFd &) = delete;
    ~UniqueFd();
    int get() const { return fd_; }
    explicit operator bool() const { return fd_ >= 0; }

private:
    int fd_ = -1;
};

struct ReplacedFunction {
    std::string name;
    unsigned long sympos = 0;
    std::string object = "vmlinux";
};

// A function the patch's author marked KPATCH_REVIEWED (kpatch-patch.h): the refusals of
// kpatch-build it waived, and why that is safe.
struct ReviewedFunction {
    std::string function;
    std::string reason;
    std::vector<std::string> waived;
    std::string source_object;
};

struct ModuleInfo {
    std::string path;
    std::string name;      // the kernel's module name (modinfo `name`, else from the file name)
    std::string vermagic;
    std::string release;   // first word of vermagic
    std::vector<std::pair<std::string, std::string>> modinfo;
    bool is_signed = false;
    bool replace = false;  // a cumulative patch (kpatch-build --replace: modinfo kpatch_replace=1)
    bool has_manifest = false;
    // From the `.kpatch.manifest` section (doc/interfaces.md); empty when absent.
    std::string kernel_release;
    std::string build_id;
    std::string patch_hash;
    std::vector<ReplacedFunction> replaced;
    std::vector<std::string> added;
    std::vector<ReviewedFunction> reviewed;
    nlohmann::json manifest;
};

// Opens FILE for loading: refuses a symlink anywhere on the path, a file not owned by
// TRUSTED_UID, or one writable by group or others. The fd is what gets loaded, so the
// checks cannot be raced.
Expected<UniqueFd> open_trusted(const std::filesystem::path &file, uid_t trusted_uid);

Expected<ModuleInfo> read_module_info(int fd, const std::string &path);
Expected<ModuleInfo> read_module_info(const std::filesystem::path &file);

// "dir/kpatch-foo.ko" -> "kpatch_foo", the name kbuild would give it.
std::string module_name_from_path(const std::filesystem::path &file);

// Applies a manifest's JSON text to INFO (exposed for tests).
Expected<void> apply_manifest(ModuleInfo &info, std::string_view text);

} // namespace kpatch::loader
