// install and uninstall: checked module files into the store, under the change lock (licence: GPL-2.0-only).
#include <kpatch/loader/lock.hpp>
#include <kpatch/loader/ops.hpp>

#include "util.hpp"

#include <fmt/format.h>

namespace kpatch::loader {

using detail::failure;

Expected<InstallResult> install(Context &ctx, const std::string &file, const std::string &kernel_release,
                                const Store::StepHook &hook)
{
    // The same checks as load: what is installed gets loaded at boot by root.
    auto fd = open_trusted(file, ctx.config.trusted_uid);
    if (!fd)
        return failure("install", file, fd.error().message, fd.error().code);
    auto info = read_module_info(fd->get(), file);
    if (!info)
        return info.error();
    if (info->release != kernel_release)
        return failure("install", file, fmt::format("it was built for kernel {} (vermagic '{}'), not {}; use -k {} to install it for that kernel",
                                                    info->release.empty() ? "unknown" : info->release, info->vermagic,
                                                    kernel_release, info->release), kRefused);
    auto lock = ChangeLock::acquire(ctx.config.lock_path(), ctx.notify);
    if (!lock)
        return lock.error();
    Store store(ctx.config.install_root, hook);
    bool replaced = bool(store.find(info->name, kernel_release));
    std::vector<std::string> replaces;
    auto installed = store.install(fd->get(), info->name, kernel_release, info->replace, &replaces);
    if (!installed)
        return failure("install", info->name, installed.error().message, installed.error().code);
    return InstallResult{*installed, replaced, replaces};
}

Expected<InstalledPatch> uninstall(Context &ctx, const std::string &name, const std::string &kernel_release)
{
    auto lock = ChangeLock::acquire(ctx.config.lock_path(), ctx.notify);
    if (!lock)
        return lock.error();
    // Straight to the store: a patch whose module file is gone must still be removable.
    auto removed = Store(ctx.config.install_root).uninstall(name, kernel_release);
    if (!removed)
        return failure("uninstall", name, removed.error().message, removed.error().code);
    return *removed;
}

} // namespace kpatch::loader
