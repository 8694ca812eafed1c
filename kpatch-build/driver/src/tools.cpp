// Finding the helper programs kpatch-build runs and the core's files (licence: GPL-2.0-only).
#include "tools.hpp"

#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <unistd.h>

namespace kpatch::driver {

namespace fs = std::filesystem;

std::string program_dir()
{
    std::error_code ec;
    fs::path self = fs::read_symlink("/proc/self/exe", ec);
    return ec ? std::string(".") : self.parent_path().string();
}

Expected<std::string> find_tool(const std::string &name, const std::string &subdir,
                                const char *env_var)
{
    if (const char *env = std::getenv(env_var); env && *env) {
        if (access(env, X_OK) == 0)
            return std::string(env);
        return make_error(std::string("$") + env_var + "=" + env + " is not an executable");
    }
    fs::path dir = program_dir();
    for (const fs::path &p : {dir.parent_path() / subdir / name,
                              dir.parent_path() / "libexec" / "kpatch" / name,
                              dir / name}) {
        if (access(p.c_str(), X_OK) == 0)
            return p.string();
    }
    if (const char *path = std::getenv("PATH")) {
        std::istringstream in(path);
        for (std::string d; std::getline(in, d, ':');)
            if (!d.empty() && access((d + "/" + name).c_str(), X_OK) == 0)
                return d + "/" + name;
    }
    return make_error("cannot find " + name + " (built in kpatch-build/" + subdir +
                      "/, installed in libexec/kpatch/); set $" + env_var);
}

std::string patch_header_dir()
{
    // KPATCH_SOURCE_KMOD_INCLUDE: the source tree's kmod/include, set by meson; a program
    // run from its build tree goes with the core built there (<build>/kmod), an
    // installed one with the installed core.
    fs::path build = fs::path(program_dir()).parent_path().parent_path();
    std::string source = KPATCH_SOURCE_KMOD_INCLUDE;
    if (access((build / "build.ninja").c_str(), R_OK) == 0 &&
        access((source + "/kpatch-patch.h").c_str(), R_OK) == 0)
        return source;
    if (access((std::string(kInstalledKmodDir) + "/kpatch-patch.h").c_str(), R_OK) == 0)
        return kInstalledKmodDir;
    return {};
}

} // namespace kpatch::driver
