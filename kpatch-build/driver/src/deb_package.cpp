// Steps "package" and "core package": a staging tree and dpkg-deb (licence: GPL-2.0-only).
#include "deb_package.hpp"

#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

#include "deb_scripts.hpp"
#include "process.hpp"

namespace kpatch::driver::deb {

namespace fs = std::filesystem;

namespace {

std::string patch_version(const Options &options)
{
    return options.deb_version.empty() ? "1" : options.deb_version;
}

} // namespace

Expected<void> check_request(const Options &options)
{
    if (options.name.empty())
        return make_error("--deb needs -n NAME: the package is kpatch-patch-NAME-KABI");
    if (auto ok = check_name(options.name); !ok)
        return ok.error().in("-n");
    if (auto ok = check_version(patch_version(options)); !ok)
        return ok.error().in("--deb-version");
    auto module = module_name(options.name, patch_version(options));
    if (!module)
        return module.error();
    return {};
}

Expected<Naming> naming(const Options &options, const std::string &kernel_release)
{
    if (auto ok = check_request(options); !ok)
        return ok.error();
    if (auto ok = check_kernel_release(kernel_release); !ok)
        return ok.error();
    Naming n;
    n.version = patch_version(options);
    auto module = module_name(options.name, n.version);
    if (!module)
        return module.error();
    n.module = *module;
    n.package = package_name(options.name, kernel_release);
    return n;
}

std::string build_serial()
{
    if (const char *sde = std::getenv("SOURCE_DATE_EPOCH"); sde && *sde) {
        char *end = nullptr;
        long long v = std::strtoll(sde, &end, 10);
        if (!*end && v >= 0)
            return serial_for(v);
    }
    return serial_for(std::time(nullptr));
}

std::string maintainer()
{
    const char *name = std::getenv("DEBFULLNAME");
    const char *mail = std::getenv("DEBEMAIL");
    if (mail && *mail)
        return std::string(name && *name ? name : "kpatch-build") + " <" + mail + ">";
    return "kpatch-build <root@localhost>";
}

namespace {

Expected<void> write_file(const std::string &path, const std::string &text, mode_t mode)
{
    if (auto ok = write_text_atomic(path, text); !ok)
        return ok;
    if (chmod(path.c_str(), mode) != 0)
        return make_error("cannot set the mode of " + path);
    return {};
}

// Builds STAGE into OUT_DIR/FILE through a temporary name in OUT_DIR.
Expected<std::string> build_deb(const std::string &stage, const std::string &out_dir,
                                const std::string &file)
{
    if (auto ok = make_dirs(out_dir); !ok)
        return ok.error();
    std::error_code ec;
    std::string dest = fs::absolute(out_dir + "/" + file, ec).lexically_normal().string();
    auto tmp = make_temp_file(dest);
    if (!tmp)
        return tmp.error();
    // Owned by root whoever builds it; xz as Debian's own packages.
    auto built = run_checked(Command({"dpkg-deb", "--root-owner-group", "-Zxz", "--build", stage, *tmp}),
                             "dpkg-deb --build");
    if (!built) {
        unlink(tmp->c_str());
        return built.error().in(dest);
    }
    if (auto ok = rename_into_place(*tmp, dest); !ok)
        return ok.error();
    return dest;
}

// The staging tree: DIR/DEBIAN plus the module at DEST (a path on the server).
Expected<std::string> stage_dir(const std::string &work, const std::string &ko,
                                const std::string &dest)
{
    std::string stage = work + "/deb";
    remove_tree(stage);
    if (auto ok = make_dirs(stage + "/DEBIAN"); !ok)
        return ok.error();
    if (auto ok = make_dirs(stage + fs::path(dest).parent_path().string()); !ok)
        return ok.error();
    if (auto ok = copy_file_atomic(ko, stage + dest); !ok)
        return ok.error();
    if (chmod((stage + dest).c_str(), 0644) != 0)
        return make_error("cannot set the mode of " + stage + dest);
    return stage;
}

std::uint64_t kib(const std::string &path)
{
    std::error_code ec;
    auto size = fs::file_size(path, ec);
    return ec ? 0 : (size + 1023) / 1024;
}

struct ControlFile {
    const char *name;   // under DEBIAN/
    std::string text;
    mode_t mode;
};

// The whole package: KO at DEST (a path on the server), the DEBIAN files, dpkg-deb.
Expected<std::string> package(const std::string &ko, const std::string &dest,
                              const std::vector<ControlFile> &files, const std::string &work,
                              const std::string &out_dir, const std::string &file)
{
    auto stage = stage_dir(work, ko, dest);
    if (!stage)
        return stage.error();
    for (const auto &f : files)
        if (auto ok = write_file(*stage + "/DEBIAN/" + f.name, f.text, f.mode); !ok)
            return ok.error();
    return build_deb(*stage, out_dir, file);
}

} // namespace

Expected<std::string> write_patch_package(const PatchPackage &p, const std::string &ko,
                                          const std::string &work, const std::string &out_dir)
{
    std::string name = package_name(p.name, p.kernel_release);
    std::string dest = std::string(kPatchDir) + "/" + p.kernel_release + "/" + p.module + ".ko";
    PatchPackage sized = p;
    sized.installed_kib = kib(ko);
    PatchScripts scripts = patch_scripts(name, p.kernel_release, p.module, dest, p.build_id);
    return package(ko, dest,
                   {{"control", patch_control(sized), 0644}, {"postinst", scripts.postinst, 0755},
                    {"prerm", scripts.prerm, 0755}, {"postrm", scripts.postrm, 0755}},
                   work, out_dir, file_name(name, p.version));
}

Expected<std::string> write_core_package(const CorePackage &p, const std::string &ko,
                                         const std::string &work, const std::string &out_dir)
{
    // Where `make -C kmod install` puts it; DKMS uses updates/dkms/, which depmod prefers.
    std::string dest = "/lib/modules/" + p.kernel_release + "/extra/kpatch.ko";
    CorePackage sized = p;
    sized.installed_kib = kib(ko);
    CoreScripts scripts = core_scripts(p.kernel_release);
    return package(ko, dest,
                   {{"control", core_control(sized), 0644}, {"postinst", scripts.postinst, 0755},
                    {"postrm", scripts.postrm, 0755}},
                   work, out_dir, file_name(core_package_name(p.kernel_release), p.version));
}

} // namespace kpatch::driver::deb
