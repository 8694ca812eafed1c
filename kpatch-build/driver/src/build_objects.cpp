// Step "build objects" (licence: GPL-2.0-only).
#include "build_objects.hpp"

#include <cstdlib>
#include <filesystem>
#include <thread>
#include <unistd.h>

#include "module_parts.hpp"
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

Expected<std::vector<ObjectPair>> build_objects(const Context &ctx, const PreparedTree &tree,
                                                const std::string &orig_tree,
                                                const std::string &patched_tree,
                                                const std::vector<std::string> &objects,
                                                const std::string &log_dir, BuildStats &stats)
{
    std::vector<std::string> missing;
    for (const auto &o : objects)
        if (!exists(tree.objects + "/" + o))
            missing.push_back(o);
    stats.orig_cached = objects.size() - missing.size();
    stats.orig_built = missing.size();

    timespec start = now_realtime();
    if (!missing.empty())
        if (auto ok = make_work_tree(tree.path, orig_tree, missing); !ok)
            return ok.error();

    unsigned jobs = ctx.jobs;
    unsigned orig_jobs = missing.empty() ? 0 : std::max(1u, jobs / 2);
    unsigned patched_jobs = std::max(1u, jobs - orig_jobs);
    std::string orig_log = log_dir + "/build-orig.log", patched_log = log_dir + "/build-patched.log";

    Expected<Outcome> orig_out = Outcome{0, {}};
    std::thread orig_thread;
    if (!missing.empty())
        orig_thread = std::thread([&] {
            orig_out = run(make_objects(ctx, orig_tree, missing, orig_jobs, orig_log));
        });
    auto patched_out = run(with_patch_headers(make_objects(ctx, patched_tree, objects,
                                                           patched_jobs, patched_log)));
    if (orig_thread.joinable())
        orig_thread.join();

    // The guard runs before any verdict: a write through a link spoils the cache for
    // every later run, so it must be reported even when the build failed.
    for (const std::string &t : {orig_tree, patched_tree}) {
        if (t == orig_tree && missing.empty())
            continue;
        auto written = shared_files_written(t, start);
        if (!written.empty()) {
            fs::remove(tree.path + "/.kpatch-prepared");
            return make_error("the build wrote through a hard link into the prepared tree (" +
                              written.front() + (written.size() > 1 ? " and " +
                              std::to_string(written.size() - 1) + " more" : "") +
                              "); the cached tree " + tree.path +
                              " is no longer trusted and will be prepared again");
        }
    }
    if (!missing.empty())
        if (auto ok = judge(orig_out, "original (unpatched)", orig_log); !ok)
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
