// load and unload: finit_module with busy retries, disable then delete_module (licence: GPL-2.0-only).
#include <kpatch/loader/lock.hpp>
#include <kpatch/loader/ops.hpp>

#include "util.hpp"

#include <fmt/format.h>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace kpatch::loader {

namespace fs = std::filesystem;
using detail::failure;

namespace {

bool is_file_target(const std::string &target)
{
    return target.find('/') != std::string::npos || target.ends_with(".ko");
}

bool module_present(const Config &config, const std::string &name)
{
    std::error_code ec;
    return fs::is_directory(config.sys_module_root / module_name(name), ec);
}

// The core's own account of a failure for PATCH, e.g. "pipe_read is in use by cat/123".
std::string core_reason(const Config &config, const std::string &patch)
{
    for (const fs::path &file : {config.sysfs_root / patch / "last_error", config.sysfs_root / "last_error"}) {
        auto e = parse_last_error(detail::read_line(file));
        if (e && module_name(e->patch) == module_name(patch))
            return fmt::format("{} ({})", e->message, e->errno_name);
    }
    return {};
}

// Runs OP until it stops returning EBUSY or the configured retries are used up; between
// tries says why (the core's last_error) and waits. Returns OP's last result.
template <typename Op>
int retry_busy(Context &ctx, const std::string &name, int &tries, Op op)
{
    const int attempts = 1 + std::max(0, ctx.config.retries);
    for (tries = 1;; ++tries) {
        int err = op();
        if (err != EBUSY || tries >= attempts)
            return err;
        std::string why = core_reason(ctx.config, name);
        ctx.notify(fmt::format("{}: busy{}; retrying in {} ms (attempt {} of {})", name, why.empty() ? "" : " (" + why + ")",
                               ctx.config.retry_delay.count(), tries + 1, attempts));
        ctx.kernel.sleep(ctx.config.retry_delay);
    }
}

Error load_error(const Config &config, const ModuleInfo &m, int err, int attempts)
{
    std::string reason = detail::errno_text(err);
    std::string core = core_reason(config, m.name);
    int code = kFailed;
    switch (err) {
    case EBUSY:
        code = kBusy;
        reason = fmt::format("a function it replaces stayed in use through {} attempts: {}", attempts,
                             core.empty() ? reason : core);
        return failure("load", m.name, reason, code);
    case EEXIST:
        return failure("load", m.name, "a module of that name is already loaded", kFailed);
    case ENOEXEC:
        code = kRefused;
        reason += " (the kernel rejected the module's format or version; see dmesg)";
        break;
    case EKEYREJECTED:
    case ENOKEY:
    case EPERM:
        code = kRefused;
        reason += m.is_signed ? " (its signature is not trusted by this kernel)" : " (it is not signed and this kernel requires signatures, or you are not root)";
        break;
    default:
        break;
    }
    // The core's own account names the function; errno alone misleads (ENOENT is "No such file").
    if (!core.empty())
        reason = core;
    return failure("load", m.name, reason, code);
}

Expected<bool> ensure_core(Context &ctx, const std::string &kver)
{
    const Config &c = ctx.config;
    if (core_loaded(c))
        return false;
    std::vector<fs::path> candidates;
    if (!c.core_module.empty()) {
        candidates.push_back(c.core_module);
    } else {
        if (ctx.kernel.modprobe("kpatch") == 0 && core_loaded(c))
            return true;
        // /lib is a symlink to usr/lib on merged-/usr systems: resolve the modules root (a
        // system directory), then trust nothing below it that is a symlink.
        std::error_code ec;
        fs::path root = fs::canonical(c.modules_root, ec);
        if (ec)
            root = c.modules_root;
        candidates = {root / kver / "extra" / "kpatch.ko", root / kver / "updates" / "kpatch.ko"};
    }
    std::string tried;
    for (const auto &path : candidates) {
        // The core runs with every patch's trust: the same owner, mode and symlink checks.
        auto fd = open_trusted(path, c.trusted_uid);
        if (!fd) {
            tried += fmt::format("; {}: {}", path.string(), fd.error().message);
            if (fd.error().code == kRefused)
                return failure("load core module", path.string(), fd.error().message, kRefused);
            continue;
        }
        int err = ctx.kernel.finit_module(fd->get(), "");
        if ((err == 0 || err == EEXIST) && core_loaded(c))
            return true;
        tried += fmt::format("; {}: {}", path.string(), err ? detail::errno_text(err) : "loaded but no " + c.sysfs_root.string());
    }
    std::string how = c.core_module.empty() ? "modprobe kpatch failed" : "configured core module";
    return failure("load core module", "kpatch", how + tried, kFailed);
}

Expected<fs::path> resolve_target(const Context &ctx, const std::string &target, const std::string &kver)
{
    if (is_file_target(target))
        return fs::path(target);
    auto p = Store(ctx.config.install_root).find(target, kver);
    if (!p)
        return failure("load", target, p.error().message + " (give a path to load a file)", p.error().code);
    return p->path;
}

Expected<void> check_fits(const Context &ctx, const ModuleInfo &m, const std::string &kver)
{
    if (m.release != kver)
        return failure("load", m.path, fmt::format("it was built for kernel {} (vermagic '{}'), this is {}",
                                                   m.release.empty() ? "unknown" : m.release, m.vermagic, kver), kRefused);
    if (!m.build_id.empty()) {
        std::string running = running_build_id(ctx.config);
        if (!running.empty() && running != m.build_id)
            return failure("load", m.path, fmt::format("it was built for kernel build id {}, this kernel's is {}", m.build_id, running), kRefused);
    }
    if (module_present(ctx.config, m.name))
        return failure("load", m.name, "it is already loaded", kFailed);
    // Said before the core module is loaded: the kernel would refuse the module with a bare
    // EKEYREJECTED, and only after we changed something.
    if (!m.is_signed && detail::read_line(ctx.config.sig_enforce) == "Y")
        return failure("load", m.path, "it is not signed and this kernel enforces module signatures "
                                       "(module.sig_enforce=1 or lockdown); sign it with a key the kernel trusts "
                                       "(kpatch-build --sign-key/--sign-cert, key enrolled with mokutil)", kRefused);
    return {};
}

// After a cumulative patch's switch the patches it replaced are disabled (the core did it,
// doc/interfaces.md): unload their modules. A failure here does not undo the load (the
// new patch runs); it is reported, and 'kpatchctl unload' can finish the job.
void unload_replaced(Context &ctx, LoadResult &result)
{
    auto p = read_patch(ctx.config, result.name);
    if (!p)
        return;  // not in sysfs (a module that is no patch): it replaced nothing
    for (const auto &name : p->replaced_patches) {
        result.replaced.push_back(name);
        int err = ctx.kernel.delete_module(module_name(name));
        if (err != 0 && err != ENOENT) {
            std::string e = detail::failure("unload", name, fmt::format("it was replaced by '{}' but its module stays: {}",
                                                                        result.name, detail::errno_text(err)), kFailed).message;
            ctx.notify(e);
            result.unload_errors.push_back(e);
        }
    }
}

} // namespace

Expected<LoadResult> load_locked(Context &ctx, const std::string &target)
{
    std::string kver = kernel_release(ctx.config);
    auto path = resolve_target(ctx, target, kver);
    if (!path)
        return path.error();
    auto fd = open_trusted(*path, ctx.config.trusted_uid);
    if (!fd)
        return failure("load", path->string(), fd.error().message, fd.error().code);
    auto info = read_module_info(fd->get(), path->string());
    if (!info)
        return info.error();
    if (auto r = check_fits(ctx, *info, kver); !r)
        return r.error();
    LoadResult result{info->name, path->string(), 0, false, {}, {}, {}};
    auto core = ensure_core(ctx, kver);
    if (!core)
        return core.error();
    result.core_loaded = *core;
    auto nudge = detail::NudgeScope::apply(ctx.config);
    if (!nudge)
        return nudge.error();
    int err = retry_busy(ctx, info->name, result.attempts, [&] { return ctx.kernel.finit_module(fd->get(), ""); });
    if (err != 0)
        return load_error(ctx.config, *info, err, result.attempts);
    result.nudged = detail::read_nudged(ctx.config, info->name);
    // The core's account (sysfs), not the file's modinfo, says what was replaced.
    unload_replaced(ctx, result);
    return result;
}

Expected<LoadResult> load(Context &ctx, const std::string &target)
{
    auto lock = ChangeLock::acquire(ctx.config.lock_path(), ctx.notify);
    if (!lock)
        return lock.error();
    return load_locked(ctx, target);
}

namespace {

int write_enabled(const fs::path &file, const char *value)
{
    int fd = ::open(file.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return errno;
    int err = ::write(fd, value, 1) == 1 ? 0 : errno;
    if (::close(fd) != 0 && err == 0)
        err = errno;
    return err;
}

Expected<void> disable(Context &ctx, const PatchState &p)
{
    int tries = 0;
    int err = retry_busy(ctx, p.name, tries, [&] { return write_enabled(ctx.config.sysfs_root / p.name / "enabled", "0"); });
    if (err == 0)
        return {};
    std::string core = core_reason(ctx.config, p.name);
    return failure("disable", p.name, detail::errno_text(err) + (core.empty() ? "" : ": " + core), err == EBUSY ? kBusy : kFailed);
}

Expected<void> unload_one(Context &ctx, const PatchState &p)
{
    if (p.enabled) {
        auto nudge = detail::NudgeScope::apply(ctx.config);
        if (!nudge)
            return nudge.error();
        if (auto r = disable(ctx, p); !r)
            return r;
    }
    int err = ctx.kernel.delete_module(module_name(p.name));
    if (err != 0)
        return failure("unload", p.name, fmt::format("the patch is disabled but the module stays: {}", detail::errno_text(err)), kFailed);
    return {};
}

} // namespace

Expected<UnloadResult> unload(Context &ctx, const std::string &name)
{
    auto lock = ChangeLock::acquire(ctx.config.lock_path(), ctx.notify);
    if (!lock)
        return lock.error();
    auto p = read_patch(ctx.config, name);
    if (!p) {
        if (p.error().code == kNotFound && module_present(ctx.config, name))
            return failure("unload", name, "it is a loaded module but not a kpatch patch", kRefused);
        return failure("unload", name, p.error().message, p.error().code);
    }
    UnloadResult result;
    if (auto r = unload_one(ctx, *p); !r)
        return r.error();
    result.items.push_back({p->name, true, {}});
    return result;
}

Expected<UnloadResult> unload_all(Context &ctx)
{
    auto lock = ChangeLock::acquire(ctx.config.lock_path(), ctx.notify);
    if (!lock)
        return lock.error();
    auto patches = read_patches(ctx.config);
    if (!patches)
        return failure("list", ctx.config.sysfs_root.string(), patches.error().message, kFailed);
    std::reverse(patches->begin(), patches->end());  // newest first
    UnloadResult result;
    for (const auto &p : *patches) {
        auto r = unload_one(ctx, p);
        result.items.push_back({p.name, bool(r), r ? "" : r.error().message});
        if (!r && !result.error)
            result.error = r.error();
    }
    return result;
}

} // namespace kpatch::loader
