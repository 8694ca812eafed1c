// Config defaults from the environment, and the running kernel's release (licence: GPL-2.0-only).
#include <kpatch/loader/config.hpp>

#include <sys/utsname.h>

#include <cstdlib>

namespace kpatch::loader {

namespace {
void from_env(const char *var, std::filesystem::path &field)
{
    if (const char *v = std::getenv(var); v && *v)
        field = v;
}
void from_env(const char *var, std::string &field)
{
    if (const char *v = std::getenv(var); v && *v)
        field = v;
}
} // namespace

Config config_from_env(Config c)
{
    from_env("KPATCH_SYSFS_ROOT", c.sysfs_root);
    from_env("KPATCH_SYS_MODULE_ROOT", c.sys_module_root);
    from_env("KPATCH_KERNEL_NOTES", c.kernel_notes);
    from_env("KPATCH_KALLSYMS", c.kallsyms);
    from_env("KPATCH_CMDLINE", c.cmdline);
    from_env("KPATCH_FILTER_FUNCTIONS", c.filter_functions);
    from_env("KPATCH_INSTALL_ROOT", c.install_root);
    from_env("KPATCH_RUN_DIR", c.run_dir);
    from_env("KPATCH_MODULES_ROOT", c.modules_root);
    from_env("KPATCH_CORE_MODULE", c.core_module);
    from_env("KPATCH_KERNEL_RELEASE", c.kernel_release);
    if (const char *v = std::getenv("KPATCH_TRUSTED_UID"); v && *v)
        c.trusted_uid = static_cast<uid_t>(std::strtoul(v, nullptr, 10));
    if (const char *v = std::getenv("KPATCH_RETRY_DELAY_MS"); v && *v)
        c.retry_delay = std::chrono::milliseconds(std::strtol(v, nullptr, 10));
    return c;
}

std::string kernel_release(const Config &config)
{
    if (!config.kernel_release.empty())
        return config.kernel_release;
    struct utsname u {};
    if (uname(&u) != 0)
        return "unknown";
    return u.release;
}

} // namespace kpatch::loader
