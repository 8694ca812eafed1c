// kpatch-build --core-deb: the core module prebuilt for one kernel ABI as the package
// kpatch-modules-KABI, for servers without a compiler (licence: GPL-2.0-only).
#include <kpatch/driver/driver.hpp>

#include <cstdlib>
#include <filesystem>
#include <unistd.h>

#include "context.hpp"
#include "deb_package.hpp"
#include "process.hpp"
#include "target.hpp"
#include "tools.hpp"

namespace kpatch::driver {

namespace {

namespace fs = std::filesystem;

// The core module for the target: $KPATCH_CORE_MODULE when set (its vermagic must name
// RELEASE: a core of another ABI would not load there), else the one --core-only builds
// and caches for RELEASE, which is the core patches for RELEASE are linked against.
Expected<std::string> core_module_file(const Options &options, const Reporter &reporter,
                                       const std::string &release)
{
    const char *env = std::getenv("KPATCH_CORE_MODULE");
    if (!env || !*env)
        return core_only(options, reporter);
    if (access(env, R_OK) != 0)
        return make_error("cannot read the core module ($KPATCH_CORE_MODULE)").in(env);
    auto info = run_checked(Command({"modinfo", "-F", "vermagic", env}), "modinfo");
    if (!info)
        return info.error();
    if (!info->output.starts_with(release + " "))
        return make_error("its vermagic is '" + trim(info->output) + "', not for " + release +
                          " (unset $KPATCH_CORE_MODULE to build the core for it)").in(env);
    return std::string(env);
}

// A copy of KO without its DWARF, as Debian ships kernel modules (2.4 MB -> about 10%);
// a signed module is copied as it is, since stripping would break its signature.
Expected<std::string> without_debug_info(const std::string &ko, const std::string &work)
{
    static const std::string kSigMagic = "~Module signature appended~\n";
    auto text = read_text(ko);
    if (!text)
        return text.error();
    if (text->ends_with(kSigMagic))
        return ko;
    std::string out = work + "/kpatch.ko";
    auto ok = run_checked(Command({"objcopy", "--strip-debug", ko, out}), "objcopy --strip-debug");
    if (!ok)
        return ok.error();
    return out;
}

} // namespace

Expected<std::string> build_core_package(const Options &options, const Reporter &reporter)
{
    Context ctx{options, reporter, default_cache_dir(options), 1};
    Target target;
    {
        StepTimer step(ctx, "find target");
        auto t = find_target(ctx);
        if (!t)
            return t.error();
        target = std::move(*t);
        step.done(target.release + " (" + target.chosen_because + ")");
    }
    StepTimer step(ctx, "core package");
    if (target.package_version.empty())
        return make_error("no Debian package version of linux-image-" + target.release +
                          " is known: kpatch-modules-" + target.release +
                          " must depend on the exact kernel package");
    if (auto ok = deb::check_kernel_release(target.release); !ok)
        return ok.error();
    deb::CorePackage p;
    p.kernel_release = target.release;
    p.image_version = target.package_version;
    p.version = options.deb_version.empty() ? KPATCH_VERSION : options.deb_version;
    if (auto ok = deb::check_version(p.version); !ok)
        return ok.error().in("--deb-version");
    p.maintainer = deb::maintainer();
    auto ko = core_module_file(options, reporter, target.release);
    if (!ko)
        return ko.error();
    auto work = make_temp_dir(fs::temp_directory_path() / "kpatch-core-deb");
    if (!work)
        return work.error();
    auto stripped = without_debug_info(*ko, *work);
    if (!stripped) {
        remove_tree(*work);
        return stripped.error();
    }
    auto deb = deb::write_core_package(p, *stripped, *work, options.output_dir.empty() ? "." : options.output_dir);
    remove_tree(*work);
    if (!deb)
        return deb.error();
    step.done(fs::path(*deb).filename().string() + " from " + *ko);
    return deb;
}

} // namespace kpatch::driver
