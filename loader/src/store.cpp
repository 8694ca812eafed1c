// The install store: atomic install and uninstall with a recorded order (licence: GPL-2.0-only).
#include <kpatch/loader/config.hpp>
#include <kpatch/loader/store.hpp>
#include <kpatch/loader/sysfs.hpp>

#include "install_order.hpp"
#include "util.hpp"

#include <kpatch/list_dir.hpp>

#include <fmt/format.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <sstream>
#include <unordered_set>

namespace kpatch::loader {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view kOrderFile = "order";

Error io_error(std::string_view what, const fs::path &path, int err)
{
    return Error{fmt::format("cannot {} {}: {}", what, path.string(), detail::errno_text(err)), kFailed};
}

Expected<void> fsync_dir(const fs::path &dir)
{
    int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return io_error("open", dir, errno);
    int rc = ::fsync(fd), err = errno;
    ::close(fd);
    if (rc != 0)
        return io_error("fsync", dir, err);
    return {};
}

fs::path temp_path(const fs::path &target)
{
    return target.parent_path() / fmt::format(".{}.tmp-{}", target.filename().string(), ::getpid());
}

// Writes everything from SRC (from offset 0) or BUF to a new temporary file and fsyncs it.
Expected<void> write_temp(const fs::path &tmp, int src, std::string_view buf)
{
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0)
        return io_error("create", tmp, errno);
    auto fail = [&](std::string_view what) {
        int err = errno;
        ::close(fd);
        ::unlink(tmp.c_str());
        return io_error(what, tmp, err);
    };
    if (::fchmod(fd, 0644) != 0)
        return fail("chmod");
    if (src >= 0) {
        char chunk[1 << 16];
        off_t off = 0;
        for (;;) {
            ssize_t n = ::pread(src, chunk, sizeof chunk, off);
            if (n < 0)
                return fail("read the source of");
            if (n == 0)
                break;
            if (::write(fd, chunk, static_cast<size_t>(n)) != n)
                return fail("write");
            off += n;
        }
    } else if (::write(fd, buf.data(), buf.size()) != static_cast<ssize_t>(buf.size())) {
        return fail("write");
    }
    if (::fsync(fd) != 0)
        return fail("fsync");
    if (::close(fd) != 0)
        return io_error("close", tmp, errno);
    return {};
}

Expected<void> commit(const fs::path &tmp, const fs::path &target, const Store::StepHook &hook)
{
    if (hook)
        hook("temp-written:" + target.filename().string());
    if (::rename(tmp.c_str(), target.c_str()) != 0) {
        int err = errno;
        ::unlink(tmp.c_str());
        return io_error("rename into place", target, err);
    }
    if (hook)
        hook("renamed:" + target.filename().string());
    return fsync_dir(target.parent_path());
}

Expected<void> make_dir(const fs::path &dir)
{
    std::error_code ec;
    if (fs::is_directory(dir, ec))
        return {};
    if (auto parent = dir.parent_path(); parent != dir && !parent.empty())
        if (auto r = make_dir(parent); !r)
            return r;
    if (::mkdir(dir.c_str(), 0755) != 0) {
        if (errno != EEXIST)
            return io_error("create directory", dir, errno);
        // Not a directory (is_directory said so): a file, or a symlink to a device or to
        // nothing. Changing its mode would change the symlink's target, e.g. /dev/zero.
        return Error{fmt::format("cannot create directory {}: something that is not a directory is in its place; "
                                 "remove it", dir.string()), kFailed};
    }
    if (::chmod(dir.c_str(), 0755) != 0)  // whatever the umask: kpatchctl list reads it as any user
        return io_error("chmod", dir, errno);
    return fsync_dir(dir.parent_path());
}

// Temporary files left by a killed change; callers hold the change lock, so none is live.
void remove_stale_temps(const fs::path &dir)
{
    auto entries = list_dir(dir);
    if (!entries)
        return;  // best effort: a temporary left behind is only garbage
    std::error_code ec;
    for (const auto &e : *entries) {
        std::string n = e.path().filename().string();
        if (n.starts_with(".") && n.find(".tmp-") != std::string::npos)
            fs::remove(e.path(), ec);
    }
}

bool module_name_eq(std::string_view a, std::string_view b)
{
    return module_name(a) == module_name(b);
}

} // namespace

bool valid_patch_name(std::string_view name)
{
    // MODULE_NAME_LEN is 56 including the NUL.
    return !name.empty() && name.size() <= 55 && name != kOrderFile &&
           std::all_of(name.begin(), name.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-'; });
}

Expected<void> write_file_atomic(const fs::path &path, std::string_view content, const Store::StepHook &hook)
{
    fs::path tmp = temp_path(path);
    if (auto r = write_temp(tmp, -1, content); !r)
        return r;
    return commit(tmp, path, hook);
}

Store::Store(fs::path root, StepHook hook) : root_(std::move(root)), hook_(std::move(hook)) {}

void Store::step(std::string_view name) const
{
    if (hook_)
        hook_(name);
}

Expected<std::vector<std::string>> Store::read_order(const fs::path &dir) const
{
    std::vector<std::string> names;
    std::error_code ec;
    if (!fs::exists(dir / kOrderFile, ec))
        return names;
    auto text = detail::read_file(dir / kOrderFile);
    if (!text)
        return Error{text.error().message, kFailed};
    // A set for the duplicates: a damaged or hostile order file may hold thousands of
    // names (loader-fuzz), and a search of the list per line made reading it quadratic.
    std::unordered_set<std::string> seen;
    std::istringstream in(*text);
    for (std::string line; std::getline(in, line);) {
        auto n = std::string(detail::trim(line));
        if (valid_patch_name(n) && seen.insert(n).second)
            names.push_back(n);
    }
    return names;
}

Expected<void> Store::write_order(const fs::path &dir, const std::vector<std::string> &names) const
{
    std::string text;
    for (const auto &n : names)
        text += n + "\n";
    return write_file_atomic(dir / kOrderFile, text, hook_);
}

Expected<std::vector<InstalledPatch>> Store::list(const std::string &kernel_release, std::vector<std::string> *missing) const
{
    fs::path dir = root_ / kernel_release;
    auto names = read_order(dir);
    if (!names)
        return names.error();
    std::vector<InstalledPatch> out;
    int pos = 0;
    for (const auto &n : *names) {
        ++pos;
        std::error_code ec;
        fs::path file = dir / (n + ".ko");
        if (fs::is_regular_file(fs::symlink_status(file, ec)))
            out.push_back({n, kernel_release, file, pos});
        else if (missing)
            missing->push_back(n);
    }
    return out;
}

Expected<std::vector<std::string>> Store::releases() const
{
    std::vector<std::string> out;
    std::error_code ec;
    if (!fs::is_directory(root_, ec))
        return out;
    auto entries = list_dir(root_);
    if (!entries)
        return Error{entries.error().message, kFailed};
    for (const auto &e : *entries)
        if (is_real_dir(e) && !e.path().filename().string().starts_with("."))
            out.push_back(e.path().filename().string());
    std::sort(out.begin(), out.end());
    return out;
}

Error Store::not_listed(const std::string &kernel_release) const
{
    return Error{fmt::format("not installed for {} ({} does not list it)", kernel_release,
                             (root_ / kernel_release / kOrderFile).string()), kNotFound};
}

std::string Store::missing_file_reason(const std::string &name, const std::string &kernel_release) const
{
    fs::path dir = root_ / kernel_release;
    return fmt::format("{} lists it but {} is missing or not a regular file; reinstall it or run 'kpatchctl uninstall {}'",
                       (dir / kOrderFile).string(), (dir / (name + ".ko")).string(), name);
}

Expected<InstalledPatch> Store::find(const std::string &name, const std::string &kernel_release) const
{
    std::vector<std::string> missing;
    auto all = list(kernel_release, &missing);
    if (!all)
        return all.error();
    for (const auto &p : *all)
        if (p.name == name || module_name_eq(p.name, name))
            return p;
    for (const auto &m : missing)
        if (m == name || module_name_eq(m, name))
            return Error{missing_file_reason(m, kernel_release), kNotFound};
    return not_listed(kernel_release);
}

Expected<InstalledPatch> Store::install(int fd, const std::string &name, const std::string &kernel_release,
                                        bool replace, std::vector<std::string> *removed)
{
    if (!valid_patch_name(name))
        return Error{"not a valid patch name (letters, digits, '_' and '-', at most 55)", kUsage};
    fs::path dir = root_ / kernel_release;
    if (auto r = make_dir(dir); !r)
        return r.error();
    remove_stale_temps(dir);
    auto names = read_order(dir);
    if (!names)
        return names.error();
    fs::path target = dir / (name + ".ko");
    fs::path tmp = temp_path(target);
    if (auto r = write_temp(tmp, fd, {}); !r)
        return r.error();
    // A reinstall is committed by this rename (old or new content, never a mix).
    if (auto r = commit(tmp, target, hook_); !r)
        return r.error();
    // A new install is committed by the order file naming it; a cumulative one's by the same
    // write, which also drops the patches it replaces (never a moment with neither).
    std::vector<std::string> dropped;
    auto order = detail::order_after_install(*names, name, replace, dropped);
    if (order != *names)
        if (auto r = write_order(dir, order); !r)
            return r.error();
    if (!dropped.empty()) {
        // Only garbage now: a kill before this leaves files no order names.
        for (const auto &d : dropped)
            if (::unlink((dir / (d + ".ko")).c_str()) != 0 && errno != ENOENT)
                return io_error("remove", dir / (d + ".ko"), errno);
        if (auto r = fsync_dir(dir); !r)
            return r.error();
        step("removed-replaced");
    }
    if (removed)
        *removed = dropped;
    step("installed");
    return find(name, kernel_release);
}

Expected<InstalledPatch> Store::uninstall(const std::string &name, const std::string &kernel_release)
{
    fs::path dir = root_ / kernel_release;
    auto names = read_order(dir);
    if (!names)
        return names.error();
    auto it = std::find_if(names->begin(), names->end(), [&](const auto &n) { return n == name || module_name_eq(n, name); });
    if (it == names->end())
        return not_listed(kernel_release);
    InstalledPatch removed{*it, kernel_release, dir / (*it + ".ko"), static_cast<int>(it - names->begin()) + 1};
    names->erase(it);
    // Committed once the order file no longer names it; the file is then only garbage.
    if (auto r = write_order(dir, *names); !r)
        return r.error();
    step("unlisted");
    if (::unlink(removed.path.c_str()) != 0 && errno != ENOENT)
        return io_error("remove", removed.path, errno);
    remove_stale_temps(dir);
    if (auto r = fsync_dir(dir); !r)
        return r.error();
    return removed;
}

} // namespace kpatch::loader
