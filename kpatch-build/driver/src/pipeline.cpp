// The kpatch-build flow, one named step after another (licence: GPL-2.0-only). Each step
// is a function in its own file; this file only orders them and reports their times.
#include <kpatch/driver/driver.hpp>

#include <filesystem>
#include <sys/utsname.h>
#include <thread>
#include <unistd.h>

#include "build_objects.hpp"
#include "context.hpp"
#include "diff_objects.hpp"
#include "kernel_id.hpp"
#include "line_directives.hpp"
#include "module.hpp"
#include "objects.hpp"
#include "patchset.hpp"
#include "target.hpp"
#include "tree.hpp"
#include "worktree.hpp"

namespace kpatch::driver {

namespace {

unsigned default_jobs(const Options &opt)
{
    if (opt.jobs)
        return opt.jobs;
    unsigned cores = std::thread::hardware_concurrency();
    return cores >= 2 ? 2 : 1; // the build host is shared; -j raises it
}

// Steps 1 and 2, shared by build() and prepare_only().
Expected<PreparedTree> target_and_tree(const Context &ctx, Target &target)
{
    {
        StepTimer step(ctx, "find target");
        auto t = find_target(ctx);
        if (!t)
            return t.error();
        target = std::move(*t);
        step.done(target.release + " (" + target.chosen_because + "), " +
                  (target.source_tarball.empty() ? target.sourcedir : target.source_id));
    }
    StepTimer step(ctx, "prepare tree");
    auto tree = prepare_tree(ctx, target);
    if (!tree)
        return tree.error();
    step.done((tree->reused ? "cached " : "prepared ") + tree->path);
    return tree;
}

} // namespace

Expected<std::string> prepare_only(const Options &options, const Reporter &reporter)
{
    Context ctx{options, reporter, default_cache_dir(options), default_jobs(options)};
    Target target;
    auto tree = target_and_tree(ctx, target);
    if (!tree)
        return tree.error();
    return tree->path;
}

namespace {

// The symbol table handed to the differ: --kallsyms or --vmlinux; else the running
// kernel's own /proc/kallsyms when it is the target; else a table given with --kallsyms
// in an earlier run for the same kernel package (kept in the cache: the order of
// kallsyms, which positions depend on, is fixed per build; KASLR only moves addresses).
SymbolSource symbol_source(const Context &ctx, const Target &target)
{
    const Options &opt = ctx.options;
    std::string saved = ctx.cache_dir + "/symbols/" + target.release + "_" +
                        target.package_version + ".kallsyms";
    if (!opt.kallsyms.empty()) {
        if (!exists(saved) && make_dirs(ctx.cache_dir + "/symbols"))
            if (auto text = read_text(opt.kallsyms); text && text->find(" T _stext\n") != std::string::npos)
                (void)write_text_atomic(saved, *text);
        return {"--kallsyms", opt.kallsyms};
    }
    if (!opt.vmlinux.empty())
        return {"--vmlinux", opt.vmlinux};
    struct utsname u {};
    uname(&u);
    if (target.release == u.release && access("/proc/kallsyms", R_OK) == 0)
        return {"--kallsyms", "/proc/kallsyms"};
    if (exists(saved)) {
        ctx.note("using the symbol table saved from an earlier --kallsyms: " + saved);
        return {"--kallsyms", saved};
    }
    ctx.note("no symbol table of " + target.release + " (--kallsyms or --vmlinux): a patched "
             "local function is recorded as position 0, and loading fails if its name is "
             "not unique in the kernel");
    return {};
}

// The work directory of one run, under the cache (hard links need the same file
// system). Directories of killed runs (their pid is gone) are removed on the way.
Expected<std::string> make_work_dir(const Context &ctx, const std::string &name)
{
    std::string base = ctx.cache_dir + "/work";
    if (auto ok = make_dirs(base); !ok)
        return ok.error();
    std::error_code ec;
    for (const auto &e : std::filesystem::directory_iterator(base, ec)) {
        auto pid = read_text(e.path().string() + "/.pid");
        if (pid && !exists(e.path().string() + "/.keep") && !process_alive(std::atol(pid->c_str())))
            remove_tree(e.path().string());
    }
    std::string dir = base + "/" + name + "." + std::to_string(getpid());
    remove_tree(dir);
    if (auto ok = make_dirs(dir); !ok)
        return ok.error();
    if (auto ok = write_text_atomic(dir + "/.pid", std::to_string(getpid()) + "\n"); !ok)
        return ok.error();
    if (ctx.options.debug)
        (void)write_text_atomic(dir + "/.keep", "kept by kpatch-build -d\n");
    return dir;
}

// Removes the work directory unless -d asked to keep it.
struct WorkDirGuard {
    const Context &ctx;
    std::string dir;
    ~WorkDirGuard()
    {
        if (!dir.empty() && !ctx.options.debug)
            remove_tree_in_background(dir);
    }
};

Expected<BuildResult> run_steps(const Context &ctx)
{
    const Options &opt = ctx.options;
    auto t0 = std::chrono::steady_clock::now();
    Target target;
    auto tree = target_and_tree(ctx, target);
    if (!tree)
        return tree.error();
    std::string name = module_name_for(opt.name, opt.patches.front());

    auto work = make_work_dir(ctx, name);
    if (!work)
        return work.error();
    WorkDirGuard guard{ctx, *work};
    std::string orig_tree = *work + "/orig", patched_tree = *work + "/patched";

    PatchSet patches;
    std::vector<std::string> objects;
    {
        StepTimer step(ctx, "find objects");
        auto set = read_patches(opt.patches, tree->path);
        if (!set)
            return Error{set.error().message, kExitError};
        patches = std::move(*set);
        auto found = find_objects(ctx, *tree, patches);
        if (!found)
            return found.error();
        objects = std::move(*found);
        std::string list;
        for (size_t i = 0; i < objects.size() && i < 4; ++i)
            list += (i ? " " : "") + objects[i];
        step.done(std::to_string(objects.size()) + ": " + list + (objects.size() > 4 ? " ..." : ""));
    }
    {
        StepTimer step(ctx, "apply patches");
        std::vector<std::string> needed = patches.files;
        needed.insert(needed.end(), objects.begin(), objects.end());
        for (const auto &pf : patches.patches)
            needed.insert(needed.end(), pf.added.begin(), pf.added.end());
        if (auto ok = make_work_tree(tree->path, patched_tree, needed); !ok)
            return ok.error();
        std::string source_name = target.source_tarball.empty() ? target.sourcedir : target.source_id;
        if (auto ok = apply_patches(patches, patched_tree, source_name); !ok)
            return ok.error();
        for (const auto &f : patches.files)
            if (exists(tree->path + "/" + f) && exists(patched_tree + "/" + f))
                if (auto ok = stabilise_line_numbers(tree->path + "/" + f, patched_tree + "/" + f); !ok)
                    return ok.error();
        step.done(std::to_string(patches.patches.size()) + " patch(es), " +
                  std::to_string(patches.files.size()) + " file(s), #line directives added");
    }

    std::vector<ObjectPair> pairs;
    {
        StepTimer step(ctx, "build objects");
        BuildStats stats;
        auto built = build_objects(ctx, *tree, orig_tree, patched_tree, objects, *work, stats);
        if (!built)
            return built.error();
        pairs = std::move(*built);
        step.done(std::to_string(objects.size()) + " patched, " + std::to_string(stats.orig_built) +
                  " original (" + std::to_string(stats.orig_cached) + " cached), -j" +
                  std::to_string(ctx.jobs));
    }

    std::vector<DiffOutput> diffs;
    SymbolSource symbols = symbol_source(ctx, target);
    {
        StepTimer step(ctx, "diff objects");
        auto d = diff_objects(ctx, target, pairs, symbols, *work);
        if (!d)
            return d.error();
        diffs = std::move(*d);
        size_t funcs = 0;
        for (const auto &x : diffs)
            funcs += x.manifest.is_object() ? x.manifest.value("changed_functions", nlohmann::json::array()).size() : 0;
        step.done(std::to_string(diffs.size()) + " changed object(s), " + std::to_string(funcs) +
                  " replaced function(s)" + (symbols.path.empty() ? "" : ", symbols from " + symbols.path));
    }

    KernelId kernel;
    std::string ko;
    nlohmann::json manifest;
    {
        StepTimer step(ctx, "link module");
        kernel = kernel_identity(ctx, target, opt.vmlinux);
        manifest = module_manifest(name, target, kernel, patches, diffs);
        if (manifest["replaced"].empty())
            return Error{"the patch changes no function the kernel runs (only new code)", kExitNoChange};
        auto linked = link_module(ctx, target, patched_tree, *work + "/module", name, manifest, diffs);
        if (!linked)
            return linked.error();
        ko = *linked;
        step.done(name + ".ko, vermagic " + target.release +
                  (kernel.build_id.empty() ? ", build id unknown" : ", build id " + kernel.build_id.substr(0, 12)));
    }
    if (!opt.sign_key.empty()) {
        StepTimer step(ctx, "sign");
        if (auto ok = sign_module(ctx, tree->path, ko); !ok)
            return ok.error();
        step.done("with " + opt.sign_cert);
    }

    std::string out_dir = opt.output_dir.empty() ? "." : opt.output_dir;
    if (auto ok = make_dirs(out_dir); !ok)
        return ok.error();
    std::error_code ec;
    std::string dest = std::filesystem::absolute(out_dir + "/" + name + ".ko", ec).lexically_normal().string();
    std::string tmp = dest + ".tmp." + std::to_string(getpid());
    std::filesystem::copy_file(ko, tmp, std::filesystem::copy_options::overwrite_existing, ec);
    if (!ec)
        std::filesystem::rename(tmp, dest, ec);
    if (ec)
        return make_error("cannot write the module: " + ec.message()).in(dest);

    BuildResult result;
    result.module_path = dest;
    if (opt.debug)
        result.work_dir = *work;
    std::chrono::duration<double> total = std::chrono::steady_clock::now() - t0;
    result.summary = {{"result", "built"},
                      {"exit_code", 0},
                      {"module", dest},
                      {"name", manifest["module"]},
                      {"kernel_release", target.release},
                      {"build_id", kernel.build_id},
                      {"tree", tree->path},
                      {"objects", objects},
                      {"replaced", manifest["replaced"]},
                      {"new", manifest["new"]},
                      {"patch_sha256", patches.sha256},
                      {"seconds", total.count()},
                      {"work_dir", result.work_dir}};
    return result;
}

} // namespace

Expected<BuildResult> build(const Options &options, const Reporter &reporter)
{
    Context ctx{options, reporter, default_cache_dir(options), default_jobs(options)};
    return run_steps(ctx);
}

} // namespace kpatch::driver
