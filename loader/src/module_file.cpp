// Reads a patch module's ELF: .modinfo, .kpatch.manifest, appended signature (licence: GPL-2.0-only).
#include <kpatch/loader/config.hpp>
#include <kpatch/loader/module_file.hpp>
#include <kpatch/loader/store.hpp>
#include <kpatch/loader/sysfs.hpp>
#include <kpatch/json_field.hpp>

#include "util.hpp"

#include "arch/kernel_layout.hpp"

#include <fmt/format.h>
#include <gelf.h>
#include <libelf.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <sstream>

namespace kpatch::loader {

namespace fs = std::filesystem;

UniqueFd &UniqueFd::operator=(UniqueFd &&other) noexcept
{
    if (this != &other) {
        if (fd_ >= 0)
            ::close(fd_);
        fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
}

UniqueFd::~UniqueFd()
{
    if (fd_ >= 0)
        ::close(fd_);
}

namespace {

constexpr std::string_view kSignatureMarker = "~Module signature appended~\n";

Error refuse(const fs::path &, std::string_view reason)
{
    return Error{std::string(reason), kRefused};
}

// A symlink anywhere on the path: the resolved path differs from the lexical one.
Expected<void> check_no_symlink(const fs::path &file)
{
    std::error_code ec;
    fs::path abs = fs::absolute(file, ec).lexically_normal();
    fs::path real = fs::canonical(abs, ec);
    if (ec)
        return Error{ec.message(), ec == std::errc::no_such_file_or_directory ? kNotFound : kFailed};
    if (real != abs)
        return refuse(file, fmt::format("it is reached through a symlink (resolves to {}); load the file itself", real.string()));
    return {};
}

} // namespace

Expected<UniqueFd> open_trusted(const fs::path &file, uid_t trusted_uid)
{
    if (auto r = check_no_symlink(file); !r)
        return r.error();
    // O_NONBLOCK: a FIFO in the file's place must be refused below, not wait for a writer.
    UniqueFd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK));
    if (!fd) {
        int err = errno;
        if (err == ELOOP)
            return refuse(file, "it is a symlink");
        return Error{detail::errno_text(err), err == ENOENT ? kNotFound : kFailed};
    }
    struct stat st {};
    if (fstat(fd.get(), &st) != 0)
        return Error{detail::errno_text(errno), kFailed};
    if (!S_ISREG(st.st_mode))
        return refuse(file, "it is not a regular file");
    if (st.st_uid != trusted_uid)
        return refuse(file, fmt::format("it is owned by uid {}, not {}", st.st_uid, trusted_uid == 0 ? "root" : std::to_string(trusted_uid)));
    if (st.st_mode & (S_IWGRP | S_IWOTH))
        return refuse(file, fmt::format("it is writable by {} (mode {:04o}); chmod go-w it",
                                        (st.st_mode & S_IWOTH) ? "others" : "its group", st.st_mode & 07777));
    return fd;
}

std::string module_name_from_path(const fs::path &file)
{
    std::string stem = file.filename().string();
    if (stem.size() > 3 && stem.ends_with(".ko"))
        stem.resize(stem.size() - 3);
    return module_name(stem);
}

namespace {

// The manifest's limit: kpatch-build writes a few KiB; a section of megabytes is not one of ours.
constexpr size_t kMaxManifest = 4 << 20;

// "replaced": [{"name", "sympos", "object"}] or ["name"].
Expected<ReplacedFunction> replaced_entry(const nlohmann::json &f)
{
    if (f.is_string())
        return ReplacedFunction{f.get<std::string>(), 0, "vmlinux"};
    ReplacedFunction r;
    JsonFields in(f);
    in.take("name", r.name).take("sympos", r.sympos).take("object", r.object);
    if (!in.ok())
        return in.error();
    if (r.name.empty())
        return Error{"a replaced function has no name"};
    return r;
}

// "new": [{"name"}] or ["name"].
Expected<std::string> added_entry(const nlohmann::json &f)
{
    if (f.is_string())
        return f.get<std::string>();
    return json_field<std::string>(f, "name", "");
}

Expected<ReviewedFunction> reviewed_entry(const nlohmann::json &r)
{
    ReviewedFunction f;
    JsonFields in(r);
    in.take("function", f.function).take("reason", f.reason).take("source_object", f.source_object);
    if (!in.ok())
        return in.error();
    auto waived = json_items(r, "waived");
    if (!waived)
        return waived.error();
    for (const auto &w : *waived) {
        if (!w.is_string())
            return Error{"key \"waived\" holds " + json_detail::type_name(w) + ", expected strings"};
        f.waived.push_back(w.get<std::string>());
    }
    return f;
}

// Every element of ARRAY through ENTRY into OUT; the error says which key and element.
template <typename T, typename Entry>
Expected<void> take_items(const nlohmann::json &j, std::string_view key, std::vector<T> &out, Entry entry)
{
    auto items = json_items(j, key);
    if (!items)
        return items.error();
    size_t i = 0;
    for (const auto &item : *items) {
        auto e = entry(item);
        if (!e)
            return e.error().in(fmt::format("\"{}\"[{}]", key, i));
        out.push_back(std::move(*e));
        ++i;
    }
    return {};
}

// "hooks": {"pre_patch": "fn", ...}; kpatchctl prints them, so only strings pass.
Expected<void> check_hooks(const nlohmann::json &j)
{
    auto hooks = json_field<nlohmann::json>(j, "hooks", nlohmann::json::object());
    if (!hooks)
        return hooks.error();
    if (!hooks->is_object())
        return json_detail::wrong_type("hooks", "an object", *hooks);
    for (const auto &[kind, fn] : hooks->items())
        if (!fn.is_string())
            return json_detail::wrong_type("hooks." + kind, "a string", fn);
    return {};
}

Expected<void> read_manifest(ModuleInfo &info, const nlohmann::json &j)
{
    JsonFields in(j);
    in.take("kernel_release", info.kernel_release).take("build_id", info.build_id).take("patch_sha256", info.patch_hash);
    if (!in.ok())
        return in.error();
    if (auto r = take_items(j, "replaced", info.replaced, replaced_entry); !r)
        return r;
    if (auto r = take_items(j, "new", info.added, added_entry); !r)
        return r;
    if (auto r = take_items(j, "reviewed", info.reviewed, reviewed_entry); !r)
        return r;
    return check_hooks(j);
}

} // namespace

Expected<void> apply_manifest(ModuleInfo &info, std::string_view text)
{
    // The section may be NUL-padded.
    text = text.substr(0, text.find('\0'));
    if (text.size() > kMaxManifest)
        return Error{fmt::format("section .kpatch.manifest is {} bytes, more than the {} a manifest may have",
                                 text.size(), kMaxManifest)};
    auto j = parse_json_object(text);
    if (!j)
        return j.error().in("section .kpatch.manifest");
    ModuleInfo parsed = info;
    if (auto r = read_manifest(parsed, *j); !r)
        return r.error().in("section .kpatch.manifest");
    info = std::move(parsed);
    info.has_manifest = true;
    info.manifest = std::move(*j);
    return {};
}

namespace {

void apply_modinfo(ModuleInfo &info, std::string_view data)
{
    size_t pos = 0;
    while (pos < data.size()) {
        size_t end = data.find('\0', pos);
        if (end == std::string_view::npos)
            end = data.size();
        std::string_view entry = data.substr(pos, end - pos);
        pos = end + 1;
        size_t eq = entry.find('=');
        if (entry.empty() || eq == std::string_view::npos)
            continue;
        std::string key(entry.substr(0, eq)), value(entry.substr(eq + 1));
        if (key == "name")
            info.name = value;
        else if (key == "vermagic")
            info.vermagic = value;
        else if (key == "kpatch_replace")
            info.replace = value == "1";
        info.modinfo.emplace_back(std::move(key), std::move(value));
    }
}

// Without a manifest section, kpatch-build's modinfo keys say the same in short form:
// kpatch_kernel, kpatch_build_id, kpatch_patch_sha256, kpatch_replaced ("name[,pos] ..."), kpatch_new.
void apply_modinfo_fallback(ModuleInfo &info)
{
    for (const auto &[key, value] : info.modinfo) {
        std::istringstream words(value);
        std::string w;
        if (key == "kpatch_kernel")
            info.kernel_release = value;
        else if (key == "kpatch_build_id")
            info.build_id = value;
        else if (key == "kpatch_patch_sha256")
            info.patch_hash = value;
        else if (key == "kpatch_replaced")
            while (words >> w) {
                size_t comma = w.find(',');
                info.replaced.push_back({w.substr(0, comma), comma == std::string::npos ? 0ul : std::strtoul(w.c_str() + comma + 1, nullptr, 10), "vmlinux"});
            }
        else if (key == "kpatch_new")
            while (words >> w)
                info.added.push_back(w.substr(0, w.find(',')));
    }
    info.has_manifest = !info.kernel_release.empty() || !info.replaced.empty();
}

std::string_view section_data(Elf_Scn *scn)
{
    Elf_Data *d = elf_getdata(scn, nullptr);
    if (!d || !d->d_buf)
        return {};
    return {static_cast<const char *>(d->d_buf), d->d_size};
}

Expected<void> read_sections(Elf *elf, ModuleInfo &info)
{
    GElf_Ehdr ehdr;
    if (!gelf_getehdr(elf, &ehdr) || ehdr.e_type != ET_REL)
        return Error{"not a kernel module (not a relocatable ELF object)", kRefused};
    size_t shstrndx;
    if (elf_getshdrstrndx(elf, &shstrndx) != 0)
        return Error{fmt::format("bad ELF: {}", elf_errmsg(-1)), kRefused};
    bool has_this_module = false, has_modinfo = false;
    for (Elf_Scn *scn = elf_nextscn(elf, nullptr); scn; scn = elf_nextscn(elf, scn)) {
        GElf_Shdr sh;
        if (!gelf_getshdr(scn, &sh))
            continue;
        const char *name = elf_strptr(elf, shstrndx, sh.sh_name);
        if (!name || sh.sh_type == SHT_NOBITS)
            continue;
        std::string_view sname(name);
        if (sname == ".modinfo") {
            has_modinfo = true;
            apply_modinfo(info, section_data(scn));
        } else if (sname == ".kpatch.manifest") {
            if (auto r = apply_manifest(info, section_data(scn)); !r)
                return Error{r.error().message, kRefused};
        } else if (sname == ".gnu.linkonce.this_module") {
            has_this_module = true;
            // struct module's name, where this module's architecture puts it (none known:
            // the name comes from .modinfo alone).
            std::string_view d = section_data(scn);
            const arch::KernelLayout *layout = arch::kernel_layout(ehdr.e_machine);
            if (info.name.empty() && layout && d.size() > layout->module_name_offset) {
                std::string_view name = d.substr(layout->module_name_offset);
                info.name = std::string(name.substr(0, name.find('\0')));
            }
        }
    }
    if (!has_modinfo || !has_this_module)
        return Error{"not a kernel module (no .modinfo or .gnu.linkonce.this_module section)", kRefused};
    return {};
}

} // namespace

Expected<ModuleInfo> read_module_info(int fd, const std::string &path)
{
    elf_version(EV_CURRENT);
    ModuleInfo info;
    info.path = path;
    struct stat st {};
    if (fstat(fd, &st) != 0)
        return detail::failure("read", path, detail::errno_text(errno), kFailed);
    // libelf would read a device (a symlink to /dev/zero) without end.
    if (!S_ISREG(st.st_mode))
        return detail::failure("read", path, "not a kernel module (not a regular file)", kRefused);
    // The kernel reads a module file whole and refuses one over INT_MAX bytes; a live patch
    // module is a few MB. Refused before anything maps, hashes or copies a huge (or
    // sparse) file into the store.
    constexpr off_t kMaxModuleBytes = off_t(1) << 30;
    if (st.st_size > kMaxModuleBytes)
        return detail::failure("read", path,
                               fmt::format("not a live patch module: {} bytes, more than the 1 GiB any "
                                           "patch module could need", st.st_size),
                               kRefused);
    if (static_cast<size_t>(st.st_size) >= kSignatureMarker.size()) {
        char tail[kSignatureMarker.size()];
        if (pread(fd, tail, sizeof tail, st.st_size - static_cast<off_t>(sizeof tail)) == static_cast<ssize_t>(sizeof tail))
            info.is_signed = std::string_view(tail, sizeof tail) == kSignatureMarker;
    }
    Elf *elf = elf_begin(fd, ELF_C_READ_MMAP, nullptr);
    if (!elf || elf_kind(elf) != ELF_K_ELF) {
        if (elf)
            elf_end(elf);
        return detail::failure("read", path, "not a kernel module (not an ELF file)", kRefused);
    }
    auto r = read_sections(elf, info);
    elf_end(elf);
    if (!r)
        return detail::failure("read", path, r.error().message, r.error().code);
    if (!info.has_manifest)
        apply_modinfo_fallback(info);
    if (info.name.empty())
        info.name = module_name_from_path(path);
    // The name becomes a path under /sys/module and the store, and a line in kpatchd's
    // record: only what kbuild produces (and the kernel's 55 characters).
    if (!valid_patch_name(info.name))
        return detail::failure("read", path, fmt::format("not a kernel module: its name '{}' is not letters, digits and '_' "
                                                         "(at most 55)", info.name.substr(0, 64)), kRefused);
    info.release = info.vermagic.substr(0, info.vermagic.find(' '));
    return info;
}

Expected<ModuleInfo> read_module_info(const fs::path &file)
{
    // O_NONBLOCK: opening a FIFO would otherwise wait for a writer.
    UniqueFd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
    if (!fd)
        return detail::failure("open", file.string(), detail::errno_text(errno), errno == ENOENT ? kNotFound : kFailed);
    return read_module_info(fd.get(), file.string());
}

} // namespace kpatch::loader
