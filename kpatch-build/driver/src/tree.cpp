// Step "prepare tree" (licence: GPL-2.0-only).
#include "tree.hpp"

#include <filesystem>
#include <map>
#include <sstream>
#include <nlohmann/json.hpp>
#include <sys/stat.h>
#include <unistd.h>


#include "process.hpp"
#include "worktree.hpp"

namespace kpatch::driver {

namespace fs = std::filesystem;

// KCFLAGS is the same for every make in a tree, the prepare included: kbuild records each
// command line in .cmd files and regenerates (asm-offsets.s, bounds.s, ...) whatever was
// made with another one, writing through the hard links of a copied tree.
std::vector<std::string> make_argv(const Context &, const std::string &tree, unsigned jobs)
{
    return {"make", "-C", tree, "-j" + std::to_string(jobs ? jobs : 1), "-s",
            "KCFLAGS=" + std::string(kBuildKcflags)};
}

Expected<Outcome> make_in_work_tree(const Context &ctx, const PreparedTree &tree,
                                    const std::string &work, const std::vector<std::string> &goals,
                                    unsigned jobs, const std::vector<std::string> &extra)
{
    timespec start = now_realtime();
    Command make(make_argv(ctx, work, jobs));
    make.argv.insert(make.argv.end(), extra.begin(), extra.end());
    make.argv.insert(make.argv.end(), goals.begin(), goals.end());
    make.log_file = work + ".log";
    auto out = run(make);
    if (auto written = shared_files_written(work, start); !written.empty()) {
        fs::remove(tree.path + "/.kpatch-prepared");
        return make_error("the build wrote through a hard link into the prepared tree (" +
                          written.front() + "); the cached tree " + tree.path +
                          " is no longer trusted and will be prepared again");
    }
    return out;
}

namespace {

// CONFIG_X=value lines of a .config, by name.
std::map<std::string, std::string> config_values(const std::string &text)
{
    std::map<std::string, std::string> values;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
        if (!line.starts_with("CONFIG_"))
            continue;
        size_t eq = line.find('=');
        if (eq != std::string::npos)
            values[line.substr(0, eq)] = line.substr(eq + 1);
    }
    return values;
}

} // namespace

std::vector<std::string> config_drift(const std::string &wanted, const std::string &got)
{
    std::vector<std::string> out;
    auto w = config_values(wanted), g = config_values(got);
    for (const auto &[name, value] : w) {
        auto it = g.find(name);
        std::string now = it == g.end() ? "(not set)" : it->second;
        if (now != value)
            out.push_back(name + "=" + value + " -> " + now);
    }
    return out;
}

namespace {

// Why a tree's config differs from the target's, for the error message.
std::string drift_message(const std::vector<std::string> &drift)
{
    std::string list;
    for (size_t i = 0; i < drift.size() && i < 8; ++i)
        list += (i ? ", " : "") + drift[i];
    if (drift.size() > 8)
        list += ", and " + std::to_string(drift.size() - 8) + " more";
    return "make olddefconfig changed " + std::to_string(drift.size()) +
           " option(s) of the target's config (" + list + "), so objects built here would "
           "differ from the running kernel's; the build host lacks a tool the config tests "
           "for (CONFIG_PAHOLE_*, CONFIG_DEBUG_INFO_BTF_MODULES: install pahole, Debian "
           "package dwarves) or has another compiler (CONFIG_GCC_VERSION, CONFIG_CC_*)";
}

// The drift between the target's config and a tree's .config ("" text when unreadable).
std::vector<std::string> tree_drift(const Target &target, const std::string &tree)
{
    auto wanted = read_text(target.config);
    auto got = read_text(tree + "/.config");
    return config_drift(wanted ? *wanted : "", got ? *got : "");
}

// utsrelease.h says: #define UTS_RELEASE "6.1.0-56-amd64"
std::string tree_release(const std::string &tree)
{
    auto text = read_text(tree + "/include/generated/utsrelease.h");
    if (!text)
        return {};
    size_t q1 = text->find('"');
    size_t q2 = q1 == std::string::npos ? q1 : text->find('"', q1 + 1);
    return q2 == std::string::npos ? std::string() : text->substr(q1 + 1, q2 - q1 - 1);
}

Expected<void> fill_tree(const Context &ctx, const Target &target, const std::string &tmp)
{
    if (!target.source_tarball.empty()) {
        auto out = run_checked({{"tar", "-xf", target.source_tarball, "-C", tmp,
                                 "--strip-components=1"}},
                               "unpack " + target.source_tarball);
        if (!out)
            return out.error();
    } else {
        // A user's tree is copied, never built in: the cache must not write into it.
        // Build products (objects, .cmd files) are left behind.
        auto out = run_checked({{"rsync", "-a", "--exclude=*.o", "--exclude=*.ko",
                                 "--exclude=.*.cmd", "--exclude=.git", "--exclude=*.a",
                                 "--exclude=vmlinux", target.sourcedir + "/", tmp + "/"}},
                               "copy " + target.sourcedir);
        if (!out)
            return out.error();
    }
    std::error_code ec;
    fs::copy_file(target.config, tmp + "/.config", fs::copy_options::overwrite_existing, ec);
    if (!ec && !target.kernelvariables.empty()) {
        auto makefile = read_text(tmp + "/Makefile");
        if (makefile && makefile->find(".kernelvariables") != std::string::npos)
            fs::copy_file(target.kernelvariables, tmp + "/.kernelvariables",
                          fs::copy_options::overwrite_existing, ec);
    }
    // Module.symvers of the real kernel, so modpost records the right CRCs for the
    // exported symbols a patch module uses.
    if (!ec)
        fs::copy_file(target.symvers, tmp + "/Module.symvers",
                      fs::copy_options::overwrite_existing, ec);
    if (ec)
        return make_error("cannot install config files: " + ec.message()).in(tmp);

    std::string log = tmp + "/.kpatch-prepare.log";
    for (const char *goal : {"olddefconfig", "modules_prepare"}) {
        Command make{make_argv(ctx, tmp, ctx.jobs)};
        make.argv.push_back(goal);
        make.log_file = log;
        if (auto out = run_checked(make, std::string("prepare the kernel tree (make ") + goal + ")");
            !out)
            return out.error();
        if (std::string(goal) == "olddefconfig")
            if (auto drift = tree_drift(target, tmp); !drift.empty())
                return make_error(drift_message(drift)).in(target.config);
    }
    std::string release = tree_release(tmp);
    if (release != target.release)
        return make_error("the prepared tree is kernel '" + release + "', not '" +
                          target.release + "': wrong source, config or .kernelvariables "
                          "(with --sourcedir, give the matching -k)");
    return {};
}

} // namespace

Expected<PreparedTree> prepare_tree(const Context &ctx, const Target &target)
{
    auto config_hash = sha256_file(target.config);
    if (!config_hash)
        return config_hash.error();
    std::string kv;
    if (!target.kernelvariables.empty())
        if (auto text = read_text(target.kernelvariables))
            kv = *text;
    PreparedTree tree;
    tree.config_hash = *config_hash;
    std::string identity = target.source_id + "\n" + *config_hash + "\n" + sha256_hex(kv) +
                           "\n" + kBuildKcflags;
    tree.key = target.release + "-" + sha256_hex(identity).substr(0, 12);
    std::string trees = ctx.cache_dir + "/trees";
    tree.path = trees + "/" + tree.key;
    tree.objects = trees + "/" + tree.key + ".objects";
    std::string stamp = tree.path + "/.kpatch-prepared";

    if (auto ok = make_dirs(trees); !ok)
        return ok.error();

    if (exists(stamp)) {
        auto text = read_text(stamp);
        nlohmann::json j = text ? nlohmann::json::parse(*text, nullptr, false) : nlohmann::json();
        if (j.is_object() && j.value("release", "") == target.release &&
            j.value("config_sha256", "") == *config_hash &&
            tree_release(tree.path) == target.release) {
            // Trees prepared before the drift check (or on a host that lacked pahole)
            // are made again; if the drift stays, preparing says why.
            if (tree_drift(target, tree.path).empty()) {
                tree.reused = true;
                return tree;
            }
            ctx.note("the cached tree " + tree.path + " was prepared with another effective "
                     "config than the target's; preparing it again");
            // The stamp first: a run killed during the removal leaves a tree without a
            // stamp, which the next run removes, not half a tree that still looks prepared.
            std::error_code ec;
            fs::remove(stamp, ec);
            remove_tree(tree.path);
        } else {
            return make_error("the cached tree " + tree.path + " does not match its stamp "
                              "(release or config hash); remove it and run again");
        }
    }

    // A tree without its stamp was never finished or was declared untrusted.
    if (exists(tree.path))
        remove_tree(tree.path);
    remove_tree(tree.objects);
    remove_tree(tree.path + ".includes");

    crash_point("preparing");
    auto tmp_dir = make_temp_dir(trees + "/" + tree.key);
    if (!tmp_dir)
        return tmp_dir.error();
    // mkdtemp's 0700 would make the tree unreadable to the other users of a shared tree.
    ::chmod(tmp_dir->c_str(), 0755);
    const std::string &tmp = *tmp_dir;
    if (auto ok = fill_tree(ctx, target, tmp); !ok) {
        if (!ctx.options.debug)
            remove_tree(tmp);
        return ok.error();
    }
    nlohmann::json j = {{"release", target.release},
                        {"config_sha256", *config_hash},
                        {"source", target.source_id},
                        {"config", target.config}};
    if (auto ok = write_text_atomic(tmp + "/.kpatch-prepared", j.dump(2) + "\n"); !ok)
        return ok.error();
    crash_point("tree filled");
    // Failing because another run finished the same tree first is fine: use theirs.
    if (auto ok = rename_into_place(tmp, tree.path); !ok && !exists(stamp))
        return ok.error();
    return tree;
}

} // namespace kpatch::driver
