// A module's objects in link order, for the differ's --module-objects (licence: GPL-2.0-only).
#include "module_objects.hpp"

#include <filesystem>
#include <sstream>
#include <vector>

#include "build_objects.hpp"
#include "process.hpp"
#include "worktree.hpp"

namespace kpatch::driver {

namespace fs = std::filesystem;

namespace {

// The objects a <module>.mod lists, each a tree-relative path that stays inside the tree
// (they are built there and copied into the cache under the same name).
Expected<std::vector<std::string>> parse_mod(const std::string &text, const std::string &origin)
{
    std::vector<std::string> objects;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
        if (line.empty())
            continue;
        fs::path p(line);
        bool inside = p.is_relative() && !line.ends_with("/");
        for (const auto &part : p)
            inside = inside && part != "..";
        if (!inside || !line.ends_with(".o"))
            return make_error("unexpected entry \"" + line + "\" (not an object in the tree)").in(origin);
        objects.push_back(line);
    }
    if (objects.empty())
        return make_error("lists no object").in(origin);
    return objects;
}

bool all_under(const std::vector<std::string> &objects, const std::string &dir)
{
    for (const auto &o : objects)
        if (!o.starts_with(dir + "/"))
            return false;
    return true;
}

Expected<void> make_in(const Context &ctx, const PreparedTree &tree, const std::string &work,
                       const std::vector<std::string> &goals, unsigned jobs,
                       const std::string &what)
{
    auto out = make_in_work_tree(ctx, tree, work, goals, jobs);
    if (!out)
        return out.error();
    if (out->status != 0)
        return make_error("Failed to " + what + " (log: " + work + ".log):\n" +
                          tail_lines(out->output, 25));
    return {};
}

} // namespace

Expected<void> write_module_objects(const Context &ctx, const PreparedTree &tree,
                                    const std::string &kbuild_path, const std::string &work,
                                    const std::string &list_file)
{
    const std::string mod = kbuild_path + ".mod";
    const std::string module_dir = fs::path(kbuild_path).parent_path().string();
    const std::string module = fs::path(kbuild_path).filename().string();
    std::string built_in;   // the work tree objects were made in, if any
    bool mod_made = false;  // <module>.mod made in `work` (not taken from the cache)

    auto text = read_text(tree.objects + "/" + mod);
    if (!text) {
        // kbuild writes <module>.mod (what `ld -r @<module>.mod` links) as a single target,
        // without compiling anything.
        if (auto ok = make_work_tree(tree.path, work, {mod}); !ok)
            return ok.error();
        built_in = work;
        mod_made = true;
        if (auto ok = make_in(ctx, tree, work, {mod}, 1, "list the objects of module " + module); !ok)
            return ok.error();
        text = read_text(work + "/" + mod);
        if (!text)
            return make_error("kbuild made no " + mod + " for module " + module).in(work);
    }
    auto objects = parse_mod(*text, mod);
    if (!objects)
        return objects.error();

    std::vector<std::string> missing;
    for (const auto &o : *objects)
        if (!exists(tree.objects + "/" + o))
            missing.push_back(o);
    if (!missing.empty()) {
        // The first work tree has real copies of the module's directory only.
        if (built_in.empty() || !all_under(missing, module_dir)) {
            built_in = built_in.empty() ? work : work + "-objects";
            if (auto ok = make_work_tree(tree.path, built_in, missing); !ok)
                return ok.error();
        }
        ctx.note("building the " + std::to_string(missing.size()) + " uncached object(s) of module " +
                 module + " to tell its same-named symbols apart by link order");
        if (auto ok = make_in(ctx, tree, built_in, missing, ctx.jobs,
                              "build the original objects of module " + module);
            !ok)
            return ok.error();
        for (const auto &o : missing)
            store_in_cache(built_in + "/" + o, tree.objects + "/" + o);
    }
    if (mod_made)
        store_in_cache(work + "/" + mod, tree.objects + "/" + mod);

    std::string list;
    for (const auto &o : *objects) {
        std::string cached = tree.objects + "/" + o;
        list += o + "\t" + (exists(cached) ? cached : built_in + "/" + o) + "\n";
    }
    return write_text_atomic(list_file, list);
}

} // namespace kpatch::driver
