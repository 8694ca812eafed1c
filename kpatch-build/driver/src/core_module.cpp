// Step "core module": kpatch.ko for the target's ABI, built once per target and core
// sources into the cache (licence: GPL-2.0-only).
#include "core_module.hpp"

#include <algorithm>
#include <cstdlib>
#include <functional>
#include <vector>
#include <filesystem>
#include <sys/stat.h>

#include "kmod_sources.hpp"
#include "process.hpp"

namespace kpatch::driver {

namespace fs = std::filesystem;

std::string core_sources_hash()
{
    std::string all;
    for (const EmbeddedFile &f : kCoreSources) {
        std::string text = f.text;
        all += std::string(f.path) + "\n" + std::to_string(text.size()) + "\n" + text;
    }
    return sha256_hex(all);
}

std::string core_cache_dir(const std::string &cache_dir, const Target &target,
                           const PreparedTree &tree, const std::string &sources_hash)
{
    std::string version = target.package_version.empty() ? "custom" : target.package_version;
    for (char &c : version)
        if (c == '/' || c == ':')
            c = '_';
    return cache_dir + "/core/" + target.release + "/" + version + "-" +
           sha256_hex(tree.key + "\n" + sources_hash).substr(0, 12);
}

namespace {

// A Module.symvers that exports the symbol every patch module calls.
Expected<void> check_symvers(const std::string &path)
{
    auto text = read_text(path);
    if (!text)
        return make_error("the core module's Module.symvers is missing").in(path);
    if (text->find("\tkpatch_register_patch\t") == std::string::npos)
        return make_error("the core module's Module.symvers has no kpatch_register_patch "
                          "(a patch module linked against it would be refused at load)").in(path);
    return {};
}

// Writes the embedded sources into DIR as kmod/ lays them out (core/ beside include/).
Expected<void> write_sources(const std::string &dir)
{
    for (const EmbeddedFile &f : kCoreSources) {
        std::string path = dir + "/" + f.path;
        if (auto ok = make_dirs(fs::path(path).parent_path().string()); !ok)
            return ok.error();
        if (auto ok = write_text_atomic(path, f.text); !ok)
            return ok.error();
    }
    return {};
}

// Builds the core in the temporary directory TMP against the prepared tree.
Expected<void> build_core(const Context &ctx, const PreparedTree &tree, const std::string &tmp)
{
    if (auto ok = write_sources(tmp); !ok)
        return ok.error();
    // No KCFLAGS of the patch builds: the core is built as kmod/Makefile builds it.
    Command make({"make", "-C", tree.path, "-j" + std::to_string(ctx.jobs ? ctx.jobs : 1), "-s",
                  "M=" + tmp + "/core", "modules"});
    make.log_file = tmp + "/build.log";
    if (auto out = run_checked(make, "build the core module (kpatch.ko) in " + tree.path +
                                         " (log: " + make.log_file + ")");
        !out)
        return out.error();
    if (!exists(tmp + "/core/kpatch.ko"))
        return make_error("kbuild made no kpatch.ko").in(tmp + "/core");
    return check_symvers(tmp + "/core/Module.symvers");
}

// Keeps the newest `keep` cores of a release (each change of the core sources makes a
// new one; two kpatch-builds used in turn keep theirs), removing the older ones.
void prune_cores(const std::string &release_dir, size_t keep)
{
    std::vector<std::pair<fs::file_time_type, fs::path>> cores;
    std::error_code ec;
    for (auto it = fs::directory_iterator(release_dir, ec); !ec && it != fs::directory_iterator();
         it.increment(ec))
        if (!is_temp_name(it->path().filename().string()))
            cores.emplace_back(fs::last_write_time(it->path(), ec), it->path());
    if (cores.size() <= keep)
        return;
    std::sort(cores.begin(), cores.end(), std::greater<>());
    for (size_t i = keep; i < cores.size(); ++i)
        remove_tree(cores[i].second.string());
}

} // namespace

Expected<CoreModule> core_module(const Context &ctx, const Target &target, const PreparedTree &tree)
{
    CoreModule core;
    if (const char *env = std::getenv("KPATCH_CORE_SYMVERS"); env && *env) {
        if (auto ok = check_symvers(env); !ok)
            return make_error("$KPATCH_CORE_SYMVERS: " + ok.error().message);
        core.symvers = env;
        core.overridden = true;
        return core;
    }
    core.dir = core_cache_dir(ctx.cache_dir, target, tree, core_sources_hash());
    core.ko = core.dir + "/core/kpatch.ko";
    core.symvers = core.dir + "/core/Module.symvers";
    if (exists(core.ko) && check_symvers(core.symvers)) {
        core.reused = true;
        return core;
    }
    // A directory without both files was left by a run killed before its rename.
    remove_tree(core.dir);
    if (auto ok = make_dirs(fs::path(core.dir).parent_path().string()); !ok)
        return ok.error();
    auto tmp = make_temp_dir(core.dir);
    if (!tmp)
        return tmp.error();
    ::chmod(tmp->c_str(), 0755);
    if (auto ok = build_core(ctx, tree, *tmp); !ok) {
        if (!ctx.options.debug)
            remove_tree(*tmp);
        else
            ctx.note("the failed core build is kept in " + *tmp);
        return ok.error();
    }
    // Module.symvers names the module by the path it was built at: the final one, for
    // whoever reads it (modpost only takes the base name for the dependency).
    if (auto text = read_text(*tmp + "/core/Module.symvers")) {
        std::string fixed = *text;
        for (size_t at; (at = fixed.find(*tmp + "/")) != std::string::npos;)
            fixed.replace(at, tmp->size(), core.dir);
        if (auto ok = write_text_atomic(*tmp + "/core/Module.symvers", fixed); !ok)
            return ok.error();
    }
    crash_point("core built");
    // The cache lock is held: nobody else can have put it there meanwhile.
    if (auto ok = rename_into_place(*tmp, core.dir); !ok)
        return ok.error();
    prune_cores(fs::path(core.dir).parent_path().string(), 3);
    return core;
}

} // namespace kpatch::driver
