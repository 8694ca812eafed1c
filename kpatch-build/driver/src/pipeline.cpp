// The kpatch-build flow, one named step after another (licence: GPL-2.0-only). Each step
// is a function in its own file; this file only orders them and reports their times.
#include <kpatch/driver/driver.hpp>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <sys/utsname.h>
#include <set>
#include <thread>
#include <unistd.h>

#include <kpatch/driver/kernel_table.hpp>
#include <kpatch/list_dir.hpp>

#include "build_objects.hpp"
#include "context.hpp"
#include "core_module.hpp"
#include "deb_package.hpp"
#include "diff_objects.hpp"
#include "kernel_id.hpp"
#include "line_directives.hpp"
#include "module.hpp"
#include "module_hooks.hpp"
#include "module_parts.hpp"
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

// Takes the cache for this run and clears what killed runs left in it.
Expected<CacheLock> lock_cache(const Context &ctx)
{
    auto lock = CacheLock::acquire(ctx);
    if (!lock)
        return lock.error();
    crash_point("lock held");
    sweep_temporaries(ctx.cache_dir);
    return lock;
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

// Step 3: the core for this kernel's ABI, whose export CRCs the patch module records.
Expected<CoreModule> step_core_module(const Context &ctx, const Target &target,
                                      const PreparedTree &tree)
{
    StepTimer step(ctx, "core module");
    auto core = core_module(ctx, target, tree);
    if (!core)
        return core.error();
    step.done(core->overridden ? "Module.symvers from $KPATCH_CORE_SYMVERS: " + core->symvers
                               : (core->reused ? "cached " : "built ") + core->ko);
    return core;
}

// --prepare-only PATCH...: the original objects the patches touch, built with one make
// and cached with their proven commands.
Expected<void> step_cache_objects(const Context &ctx, const PreparedTree &tree)
{
    const Options &options = ctx.options;
    StepTimer step(ctx, "cache objects");
    // Each patch on its own (they need not apply together); one that cannot be read or
    // changes nothing this config builds is left out, since this only saves later time.
    std::set<std::string> wanted;
    for (const auto &p : options.patches) {
        auto set = read_patches({p}, tree.path);
        if (!set) {
            ctx.note("not caching for " + p + ": " + set.error().message);
            continue;
        }
        auto found = find_objects(ctx, tree, *set);
        if (!found) {
            ctx.note("not caching for " + p + ": " + found.error().message);
            continue;
        }
        wanted.insert(found->begin(), found->end());
    }
    std::vector<std::string> missing;
    for (const auto &o : wanted)
        if (!exists(tree.objects + "/" + o))
            missing.push_back(o);
    BuildStats stats;
    if (!missing.empty()) {
        if (auto ok = make_dirs(ctx.cache_dir + "/work"); !ok)
            return ok.error();
        auto work = make_temp_dir(ctx.cache_dir + "/work/cache-objects");
        if (!work)
            return work.error();
        auto ok = cache_originals(ctx, tree, *work + "/orig", missing, *work + "/build-orig.log", stats);
        if (!ok && !options.debug)
            remove_tree_in_background(*work);
        if (!ok)
            return ok.error();
        if (!options.debug)
            remove_tree_in_background(*work);
    }
    step.done(std::to_string(wanted.size()) + " object(s) of " + std::to_string(options.patches.size()) +
              " patch(es), " + std::to_string(missing.size()) + " built with one make, " +
              std::to_string(stats.commands_proven) + " command(s) proven");
    return {};
}

// --prepare-only and --core-only: steps 1 and 2 (and 3 for the core) under the cache
// lock; the path of the tree, or of the core's kpatch.ko.
Expected<std::string> tree_or_core(const Options &options, const Reporter &reporter, bool core_too)
{
    Context ctx{options, reporter, default_cache_dir(options), default_jobs(options)};
    auto lock = lock_cache(ctx);
    if (!lock)
        return lock.error();
    Target target;
    auto tree = target_and_tree(ctx, target);
    if (tree && !core_too && !options.patches.empty())
        if (auto ok = step_cache_objects(ctx, *tree); !ok)
            return ok.error();
    if (!tree || !core_too)
        return tree ? Expected<std::string>(tree->path) : Expected<std::string>(tree.error());
    auto core = step_core_module(ctx, target, *tree);
    if (!core)
        return core.error();
    if (core->ko.empty())
        return make_error("--core-only builds the core; unset $KPATCH_CORE_SYMVERS");
    return core->ko;
}

} // namespace

Expected<std::string> prepare_only(const Options &options, const Reporter &reporter)
{
    return tree_or_core(options, reporter, false);
}

Expected<std::string> core_only(const Options &options, const Reporter &reporter)
{
    return tree_or_core(options, reporter, true);
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
// system). The caller holds the cache lock for the whole run, so every other work
// directory not kept with -d was left by a run that ended (killed, or its removal still
// going): they are removed on the way. A pid check would keep a killed run's directory
// for as long as another process happens to reuse its pid.
Expected<std::string> make_work_dir(const Context &ctx, const std::string &name)
{
    std::string base = ctx.cache_dir + "/work";
    if (auto ok = make_dirs(base); !ok)
        return ok.error();
    auto entries = list_dir(base);
    if (!entries)
        return entries.error();
    for (const auto &e : *entries) {
        if (e.path().string().ends_with(".stale")) {
            remove_tree_in_background(e.path().string()); // an earlier removal was cut short
            continue;
        }
        if (!exists(e.path().string() + "/.keep")) {
            // Out of the way at once (a rename), removed without waiting for it.
            std::string trash = e.path().string() + ".stale";
            std::error_code rename_ec;
            std::filesystem::rename(e.path(), trash, rename_ec);
            remove_tree_in_background(rename_ec ? e.path().string() : trash);
        }
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

// What the steps hand to each other.
struct Run {
    Target target;
    PreparedTree tree;
    CoreModule core;
    std::string name, work, orig_tree, patched_tree;
    PatchSet patches;
    std::vector<std::string> objects;
    std::vector<ObjectPair> pairs;
    std::vector<DiffOutput> diffs;
    KernelId kernel;
    nlohmann::json manifest;
    std::string ko;
    deb::Naming deb;        // with --deb
    std::string package;    // the .deb written by step_package
};

std::string first_objects(const std::vector<std::string> &objects)
{
    std::string list;
    for (size_t i = 0; i < objects.size() && i < 4; ++i)
        list += (i ? " " : "") + objects[i];
    return std::to_string(objects.size()) + ": " + list + (objects.size() > 4 ? " ..." : "");
}

Expected<void> step_find_objects(const Context &ctx, Run &run)
{
    StepTimer step(ctx, "find objects");
    auto set = read_patches(ctx.options.patches, run.tree.path);
    if (!set)
        return Error{set.error().message, kExitError};
    run.patches = std::move(*set);
    auto found = find_objects(ctx, run.tree, run.patches);
    if (!found)
        return found.error();
    run.objects = std::move(*found);
    step.done(first_objects(run.objects));
    return {};
}

Expected<void> step_apply_patches(const Context &ctx, Run &run)
{
    StepTimer step(ctx, "apply patches");
    std::vector<std::string> needed = run.patches.files;
    needed.insert(needed.end(), run.objects.begin(), run.objects.end());
    for (const auto &pf : run.patches.patches)
        needed.insert(needed.end(), pf.added.begin(), pf.added.end());
    if (auto ok = make_work_tree(run.tree.path, run.patched_tree, needed); !ok)
        return ok.error();
    const Target &t = run.target;
    if (auto ok = apply_patches(run.patches, run.patched_tree,
                                t.source_tarball.empty() ? t.sourcedir : t.source_id);
        !ok)
        return ok.error();
    for (const auto &f : run.patches.files) {
        std::string orig = run.tree.path + "/" + f, patched = run.patched_tree + "/" + f;
        if (exists(orig) && exists(patched))
            if (auto ok = stabilise_line_numbers(orig, patched); !ok)
                return ok.error();
    }
    step.done(std::to_string(run.patches.patches.size()) + " patch(es), " +
              std::to_string(run.patches.files.size()) + " file(s), #line directives added");
    return {};
}

Expected<void> step_build_objects(const Context &ctx, Run &run)
{
    StepTimer step(ctx, "build objects");
    BuildStats stats;
    // Documentation the patch also touches changes no object; anything else but sources
    // may feed a generator that only make knows about.
    bool sources_only = std::all_of(run.patches.files.begin(), run.patches.files.end(),
                                    [](const std::string &f) {
                                        return f.ends_with(".c") || f.ends_with(".h") ||
                                               f.ends_with(".S") || is_documentation(f);
                                    });
    auto built = build_objects(ctx, run.tree, run.orig_tree, run.patched_tree, run.objects,
                               run.work, sources_only, stats);
    if (!built)
        return built.error();
    run.pairs = std::move(*built);
    step.done(std::to_string(run.objects.size()) + " patched, " +
              std::to_string(stats.orig_built) + " original (" +
              std::to_string(stats.orig_cached) + " cached), " +
              std::to_string(stats.patched_direct) + " without make, -j" +
              std::to_string(ctx.jobs));
    return {};
}

Expected<void> step_diff_objects(const Context &ctx, Run &run)
{
    SymbolSource symbols = symbol_source(ctx, run.target);
    StepTimer step(ctx, "diff objects");
    auto d = diff_objects(ctx, run.target, run.tree, run.core.symvers, run.pairs, symbols, run.work);
    if (!d)
        return d.error();
    run.diffs = std::move(*d);
    size_t funcs = 0;
    for (const auto &x : run.diffs)
        if (x.manifest.is_object())
            funcs += x.manifest.value("changed_functions", nlohmann::json::array()).size();
    step.done(std::to_string(run.diffs.size()) + " changed object(s), " + std::to_string(funcs) +
              " replaced function(s)" +
              (symbols.path.empty() ? "" : ", symbols from " + symbols.path));
    return {};
}

// Does the manifest replace a function of @module?
bool replaces_in(const nlohmann::json &manifest, const std::string &module)
{
    for (const auto &r : manifest["replaced"])
        if (r.value("object", "") == module)
            return true;
    return false;
}

Expected<void> step_link_module(const Context &ctx, Run &run)
{
    StepTimer step(ctx, "link module");
    if (run.target.vmlinuz.empty() && ctx.options.vmlinux.empty()) {
        // Not installed here: its image package gives the build id the module records
        // (kpatchctl and a --deb package check it, not only the release string).
        TargetModules image(ctx, run.target);
        if (auto vmlinuz = image.image_vmlinuz())
            run.target.vmlinuz = *vmlinuz;
        else
            ctx.note("no build id of " + run.target.release + ": " + vmlinuz.error().message);
    }
    run.kernel = kernel_identity(ctx, run.target, ctx.options.vmlinux);
    auto hooks = find_hooks(run.diffs);
    if (!hooks)
        return hooks.error();
    run.manifest = module_manifest(run.name, run.target, run.kernel, run.patches, run.diffs);
    if (!hooks->empty())
        run.manifest["hooks"] = hooks_manifest(*hooks);
    run.manifest["replace"] = ctx.options.replace;
    if (run.manifest["replaced"].empty())
        return Error{"the patch changes no function the kernel runs (only new code)", kExitNoChange};
    if (std::string m = hooks_module(*hooks); !m.empty()) {
        if (!replaces_in(run.manifest, m))
            return Error{"the patch's hooks are in files of module " + m + " but it replaces no "
                         "function of " + m + ": a module's hooks run when its part of the "
                         "patch is applied, so they need one (or move them to vmlinux code)",
                         kExitError};
        run.manifest["hooks_object"] = m;
    }
    auto ko = link_module(ctx, run.target, run.core.symvers, run.patched_tree, run.work + "/module", run.name,
                          run.manifest, run.diffs);
    if (!ko)
        return ko.error();
    run.ko = *ko;
    const std::string &id = run.kernel.build_id;
    step.done(run.name + ".ko, vermagic " + run.target.release +
              (id.empty() ? ", build id unknown" : ", build id " + id.substr(0, 12)));
    return {};
}

Expected<void> step_sign(const Context &ctx, Run &run)
{
    if (ctx.options.sign_key.empty())
        return {};
    StepTimer step(ctx, "sign");
    if (auto ok = sign_module(ctx, run.tree.path, run.ko); !ok)
        return ok.error();
    step.done("with " + ctx.options.sign_cert);
    return {};
}

// Copies the module to -o DIR with a rename, so a reader never sees half a module.
Expected<std::string> write_output(const Context &ctx, const Run &run)
{
    namespace fs = std::filesystem;
    std::string out_dir = ctx.options.output_dir.empty() ? "." : ctx.options.output_dir;
    if (auto ok = make_dirs(out_dir); !ok)
        return ok.error();
    std::error_code ec;
    std::string dest = fs::absolute(out_dir + "/" + run.name + ".ko", ec).lexically_normal().string();
    // An interrupted run leaves no module: a caller that sees the signal must not find one.
    if (stop_signal())
        return make_error("interrupted before the module was written").in(dest);
    // -o may be a shared directory: the copy goes to an unnamed (or unpredictable) file,
    // never through a name somebody could have planted a symlink at.
    if (auto ok = copy_file_atomic(run.ko, dest); !ok)
        return make_error("cannot write the module: " + ok.error().message).in(dest);
    return dest;
}

// --deb: the package of the module just written, next to it.
Expected<void> step_package(const Context &ctx, Run &run, const std::string &module_path)
{
    if (!ctx.options.deb)
        return {};
    StepTimer step(ctx, "package");
    if (run.target.package_version.empty())
        return make_error("no Debian package version of linux-image-" + run.target.release +
                          " is known (a custom tree?): a package must depend on the exact kernel "
                          "package it was built for");
    if (run.kernel.build_id.empty())
        return make_error("the build id of " + run.target.release + " is unknown (no /boot/vmlinuz-" +
                          run.target.release + ", no --vmlinux): the package could not check that "
                          "the running kernel is the build it patches");
    deb::PatchPackage p;
    p.name = ctx.options.name;
    p.version = run.deb.version;
    p.kernel_release = run.target.release;
    p.image_version = run.target.package_version;
    p.serial = deb::build_serial();
    p.replace = ctx.options.replace;
    p.build_id = run.kernel.build_id;
    p.module = run.name;
    p.maintainer = deb::maintainer();
    for (const auto &f : ctx.options.patches)
        p.patches.push_back(std::filesystem::path(f).filename().string());
    for (const auto &r : run.manifest["replaced"]) {
        std::string fn = r.value("name", "");
        if (auto pos = r.value("sympos", 0ul))
            fn += "," + std::to_string(pos);
        p.functions.push_back(fn);
    }
    auto deb = deb::write_patch_package(p, run.ko, run.work,
                                        std::filesystem::path(module_path).parent_path().string());
    if (!deb)
        return deb.error();
    run.package = *deb;
    step.done(std::filesystem::path(*deb).filename().string() + (p.replace ? ", cumulative" : "") +
              ", serial " + p.serial);
    return {};
}

Expected<BuildResult> run_steps(const Context &ctx)
{
    auto t0 = std::chrono::steady_clock::now();
    Run run;
    auto tree = target_and_tree(ctx, run.target);
    if (!tree)
        return tree.error();
    run.tree = std::move(*tree);
    auto core = step_core_module(ctx, run.target, run.tree);
    if (!core)
        return core.error();
    run.core = std::move(*core);
    if (ctx.options.deb) {
        // With --deb, -n names the package; the module name adds the version.
        auto naming = deb::naming(ctx.options, run.target.release);
        if (!naming)
            return naming.error();
        run.deb = *naming;
        run.name = run.deb.module;
    } else {
        run.name = module_name_for(ctx.options.name, ctx.options.patches.front());
    }
    auto work = make_work_dir(ctx, run.name);
    if (!work)
        return work.error();
    WorkDirGuard guard{ctx, *work};
    run.work = *work;
    run.orig_tree = run.work + "/orig";
    run.patched_tree = run.work + "/patched";

    // The order is the data flow: each step reads what the ones before it left in `run`.
    for (auto step : {step_find_objects, step_apply_patches, step_build_objects,
                      step_diff_objects, step_link_module, step_sign})
        if (auto ok = step(ctx, run); !ok)
            return ok.error();
    auto dest = write_output(ctx, run);
    if (!dest)
        return dest.error();
    if (auto ok = step_package(ctx, run, *dest); !ok)
        return ok.error();

    BuildResult result;
    result.module_path = *dest;
    result.package_path = run.package;
    if (ctx.options.debug)
        result.work_dir = run.work;
    std::chrono::duration<double> total = std::chrono::steady_clock::now() - t0;
    result.summary = {{"result", "built"},
                      {"exit_code", 0},
                      {"module", *dest},
                      {"name", run.manifest["module"]},
                      {"kernel_release", run.target.release},
                      {"build_id", run.kernel.build_id},
                      {"tree", run.tree.path},
                      {"core_module", run.core.ko},
                      {"core_symvers", run.core.symvers},
                      {"objects", run.objects},
                      {"replaced", run.manifest["replaced"]},
                      {"new", run.manifest["new"]},
                      {"replace", ctx.options.replace},
                      {"patch_sha256", run.patches.sha256},
                      {"package", run.package},
                      {"seconds", total.count()},
                      {"work_dir", result.work_dir}};
    return result;
}

} // namespace

Expected<BuildResult> build(const Options &options, const Reporter &reporter)
{
    Context ctx{options, reporter, default_cache_dir(options), default_jobs(options)};
    // Bad package names and versions are refused before anything is built.
    if (options.deb)
        if (auto ok = deb::check_request(options); !ok)
            return Error{ok.error().message, kExitError};
    auto lock = lock_cache(ctx);
    if (!lock)
        return lock.error();
    return run_steps(ctx);
}

namespace {

// -k in the order given, then --all-installed's, each kernel once.
std::vector<std::string> kernels_to_build(const Options &options)
{
    std::vector<std::string> all = options.kernel_releases;
    if (options.all_installed)
        for (const auto &r : installed_releases())
            all.push_back(r);
    std::vector<std::string> unique;
    for (const auto &r : all)
        if (std::find(unique.begin(), unique.end(), r) == unique.end())
            unique.push_back(r);
    return unique;
}

} // namespace

Expected<std::vector<KernelOutcome>> build_many(const Options &options, const Reporter &reporter)
{
    std::vector<std::string> releases = kernels_to_build(options);
    if (releases.empty())
        return Error{"no kernel to build for: --all-installed found no installed linux-image-* "
                     "with its headers", kExitError};
    Context shared{options, reporter, default_cache_dir(options), default_jobs(options)};
    auto lock = lock_cache(shared);
    if (!lock)
        return lock.error();
    std::string out_dir = options.output_dir.empty() ? "." : options.output_dir;
    std::vector<KernelOutcome> rows;
    for (size_t i = 0; i < releases.size() && !stop_signal(); ++i) {
        // Each kernel is a run of its own; the same module file name in a directory per
        // kernel, so the module keeps its name wherever it is installed.
        Options one = options;
        one.kernel_release = releases[i];
        one.kernel_releases.clear();
        one.all_installed = false;
        one.output_dir = out_dir + "/" + releases[i];
        Context ctx{one, reporter, shared.cache_dir, shared.jobs};
        reporter.note("kernel " + releases[i] + " (" + std::to_string(i + 1) + " of " +
                      std::to_string(releases.size()) + ")");
        auto t0 = std::chrono::steady_clock::now();
        auto result = run_steps(ctx);
        std::chrono::duration<double> took = std::chrono::steady_clock::now() - t0;
        if (!result)
            reporter.note("kernel " + releases[i] + ": " + result.error().message);
        rows.push_back(kernel_outcome(releases[i], result, took.count()));
    }
    return rows;
}

} // namespace kpatch::driver
