// Step "build objects" (licence: GPL-2.0-only).
#include "build_objects.hpp"

#include <cstdlib>
#include <filesystem>
#include <thread>
#include <unistd.h>

#include "module_parts.hpp"
#include "object_command.hpp"
#include "process.hpp"
#include "tools.hpp"
#include "worktree.hpp"

namespace kpatch::driver {

namespace fs = std::filesystem;

namespace {

Command make_objects(const Context &ctx, const std::string &tree,
                     const std::vector<std::string> &objects, unsigned jobs,
                     const std::string &log)
{
    Command cmd(make_argv(ctx, tree, jobs));
    cmd.argv.insert(cmd.argv.end(), objects.begin(), objects.end());
    cmd.log_file = log;
    return cmd;
}

Expected<void> judge(const Expected<Outcome> &out, const std::string &what, const std::string &log)
{
    if (!out)
        return out.error();
    if (out->status != 0)
        return make_error("Failed to build the " + what + " objects (log: " + log + "):\n" +
                          tail_lines(out->output, 25));
    return {};
}

// The patched build may `#include "kpatch-patch.h"` (or kpatch's "kpatch-macros.h",
// "kpatch-syscall.h", which sit beside it). Their directory goes on the include
// path through CPATH, which gcc searches like a trailing -I: kbuild records command
// lines (KCFLAGS included) and rebuilds the prepare stage's files when they differ,
// which in a hard-linked work tree would write into the prepared tree. An include
// directory does not change the code, so the original side (and its cache) is as before.
Command with_patch_headers(Command cmd)
{
    std::string dir = patch_header_dir();
    if (dir.empty())
        return cmd;
    const char *old = std::getenv("CPATH");
    cmd.env["CPATH"] = old && *old ? dir + ":" + old : dir;
    return cmd;
}

} // namespace

// Copies into the object cache atomically: a run killed meanwhile leaves the old state
// (no object, built again next time), never half an object that later runs would trust.
void store_in_cache(const std::string &from, const std::string &to)
{
    std::error_code ec;
    fs::create_directories(fs::path(to).parent_path(), ec);
    (void)copy_file_atomic(from, to);  // on failure not cached; the next run builds it again
}

namespace {

// Proves that no make wrote through a hard link into the prepared tree since START.
Expected<void> guard_prepared_tree(const PreparedTree &tree, const std::string &work,
                                   const timespec &start)
{
    auto written = shared_files_written(work, start);
    if (written.empty())
        return {};
    fs::remove(tree.path + "/.kpatch-prepared");
    return make_error("the build wrote through a hard link into the prepared tree (" +
                      written.front() + (written.size() > 1 ? " and " +
                      std::to_string(written.size() - 1) + " more" : "") +
                      "); the cached tree " + tree.path +
                      " is no longer trusted and will be prepared again");
}

} // namespace

Expected<void> cache_originals(const Context &ctx, const PreparedTree &tree,
                               const std::string &orig_tree, const std::vector<std::string> &missing,
                               const std::string &log, BuildStats &stats)
{
    timespec start = now_realtime();
    if (auto ok = make_work_tree(tree.path, orig_tree, missing); !ok)
        return ok.error();
    auto orig_out = run(make_objects(ctx, orig_tree, missing, std::max(1u, ctx.jobs), log));
    // The guard runs before any verdict: a write through a link spoils the cache for
    // every later run, so it must be reported even when the build failed.
    if (auto ok = guard_prepared_tree(tree, orig_tree, start); !ok)
        return ok.error();
    if (auto ok = judge(orig_out, "original (unpatched)", log); !ok)
        return ok.error();
    for (const auto &o : missing) {
        store_in_cache(orig_tree + "/" + o, tree.objects + "/" + o);
        if (prove_command(orig_tree, o, {}, cached_command_path(tree, o), log))
            ++stats.commands_proven;
    }
    return {};
}

Expected<std::vector<ObjectPair>> build_objects(const Context &ctx, const PreparedTree &tree,
                                                const std::string &orig_tree,
                                                const std::string &patched_tree,
                                                const std::vector<std::string> &objects,
                                                const std::string &log_dir, bool sources_only,
                                                BuildStats &stats)
{
    std::vector<std::string> missing;
    for (const auto &o : objects)
        if (!exists(tree.objects + "/" + o))
            missing.push_back(o);
    stats.orig_cached = objects.size() - missing.size();
    stats.orig_built = missing.size();
    unsigned jobs = std::max(1u, ctx.jobs);
    std::string orig_log = log_dir + "/build-orig.log", patched_log = log_dir + "/build-patched.log";

    // The originals first, with every job: afterwards their proven commands let the
    // patched side skip make, which would otherwise run a second time beside this one.
    if (!missing.empty())
        if (auto ok = cache_originals(ctx, tree, orig_tree, missing, orig_log, stats); !ok)
            return ok.error();

    // The patched objects: by their proven commands when every changed file is a source
    // (make would also remake what a changed Makefile or generator input feeds), the rest
    // and any whose command fails with make, whose messages the user then reads.
    Command patched_make = with_patch_headers(make_objects(ctx, patched_tree, {}, jobs, patched_log));
    std::map<std::string, std::string> commands;
    if (sources_only)
        for (const auto &o : objects)
            if (auto c = cached_command(tree, o))
                commands[o] = *c;
    std::vector<std::string> by_make;
    for (const auto &o : objects)
        if (!commands.count(o))
            by_make.push_back(o);
    timespec start = now_realtime();
    for (const auto &o : compile_directly(patched_tree, commands, patched_make.env, jobs, patched_log))
        by_make.push_back(o);
    stats.patched_direct = objects.size() - by_make.size();
    if (!by_make.empty()) {
        Command make = patched_make;
        make.argv.insert(make.argv.end(), by_make.begin(), by_make.end());
        auto patched_out = run(make);
        if (auto ok = guard_prepared_tree(tree, patched_tree, start); !ok)
            return ok.error();
        if (auto ok = judge(patched_out, "patched", patched_log); !ok) {
            if (patched_out && patch_header_dir().empty() &&
                patched_out->output.find("kpatch-") != std::string::npos &&
                patched_out->output.find(".h: No such file") != std::string::npos)
                return make_error(ok.error().message + "\nkpatch-patch.h, kpatch-macros.h and "
                                  "kpatch-syscall.h are neither in this build "
                                  "tree's source nor in " + kInstalledKmodDir +
                                  " ('make -C kmod install' puts it there)");
            return ok.error();
        }
        // An object whose cache predates proven commands learns its command here.
        for (const auto &o : by_make)
            if (!exists(cached_command_path(tree, o)) &&
                prove_command(patched_tree, o, patched_make.env, cached_command_path(tree, o), patched_log))
                ++stats.commands_proven;
    } else if (auto ok = guard_prepared_tree(tree, patched_tree, start); !ok) {
        return ok.error();
    }

    std::vector<ObjectPair> pairs;
    for (const auto &o : objects) {
        std::string cached = tree.objects + "/" + o;
        if (!exists(cached))
            store_in_cache(orig_tree + "/" + o, cached);
        std::string orig = exists(cached) ? cached : orig_tree + "/" + o;
        auto module = module_of_object(patched_tree, o);
        if (!module)
            return module.error();
        pairs.push_back({o, orig, patched_tree + "/" + o, *module});
    }
    return pairs;
}

} // namespace kpatch::driver
