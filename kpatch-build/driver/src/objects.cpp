// Step "find objects" (licence: GPL-2.0-only).
#include "objects.hpp"

#include <algorithm>
#include <optional>
#include <set>

#include "includes.hpp"
#include "kbuild.hpp"

namespace kpatch::driver {

namespace {

bool ends_with_any(const std::string &s, std::initializer_list<const char *> suffixes)
{
    for (const char *x : suffixes)
        if (s.ends_with(x))
            return true;
    return false;
}

std::string object_of(const std::string &source)
{
    return source.substr(0, source.rfind('.')) + ".o";
}

bool is_build_rule(const std::string &file)
{
    std::string base = file.substr(file.rfind('/') + 1);
    return base == "Makefile" || base == "Kbuild" || base.starts_with("Kconfig") ||
           base.ends_with(".mk") || base.ends_with(".lds") || base.ends_with(".lds.S");
}

} // namespace

bool is_documentation(const std::string &file)
{
    return file.starts_with("Documentation/") || file.starts_with("tools/") ||
           file.starts_with("samples/") ||
           ends_with_any(file, {".rst", ".txt", ".yaml", ".md", "MAINTAINERS", "CREDITS"});
}

namespace {

// The sources whose objects a changed file may change: a built .c/.S file itself, else
// (a header, or a .c file that another includes) every source that includes it.
struct Finder {
    const Context &ctx;
    const PreparedTree &tree;
    const KbuildConfig &kbuild;
    std::optional<IncludeIndex> index;

    Expected<std::vector<std::string>> includers(const std::string &file)
    {
        if (!index) {
            index.emplace();
            if (auto ok = IncludeIndex::load_or_build(tree.path, tree.path + ".includes", *index); !ok) {
                index.reset();
                return ok.error();
            }
        }
        return index->includers(file);
    }

    Expected<std::vector<std::string>> sources(const std::string &file, bool &direct)
    {
        direct = ends_with_any(file, {".c", ".S"}) &&
                 kbuild.object(object_of(file)) != Linkage::NotBuilt;
        if (direct)
            return std::vector<std::string>{file};
        auto users = includers(file);
        if (!users)
            return users.error();
        std::vector<std::string> out;
        for (const auto &u : *users)
            if (ends_with_any(u, {".c", ".S"}))
                out.push_back(u);
        return out;
    }

    // Adds the objects of `sources` that vmlinux links to `objects`, those of modules to
    // `modules` (kbuild's .cmd file says which module after the build).
    void classify(const std::vector<std::string> &sources, std::set<std::string> &objects,
                  std::set<std::string> &modules)
    {
        for (const auto &src : sources) {
            std::string obj = object_of(src);
            switch (kbuild.object(obj)) {
            case Linkage::Unknown:
                ctx.note("cannot tell from the Makefiles whether " + obj +
                         " is built in; building it");
                [[fallthrough]];
            case Linkage::Builtin:
                objects.insert(obj);
                break;
            case Linkage::Module:
                modules.insert(obj);
                break;
            case Linkage::NotBuilt:
                break;
            }
        }
    }
};

Expected<void> refuse_new_sources(const PatchSet &patches)
{
    for (const auto &pf : patches.patches)
        for (const auto &added : pf.added)
            if (ends_with_any(added, {".c", ".S"}))
                return Error{pf.path + " adds the source file " + added +
                                 ": a live patch cannot add objects to the kernel; put new "
                                 "functions into an existing file",
                             kExitUnsupported};
    return {};
}

} // namespace

Expected<std::vector<std::string>> find_objects(const Context &ctx, const PreparedTree &tree,
                                                const PatchSet &patches)
{
    auto kbuild = KbuildConfig::load(tree.path);
    if (!kbuild)
        return kbuild.error();
    if (auto ok = refuse_new_sources(patches); !ok)
        return ok.error();
    Finder finder{ctx, tree, *kbuild, std::nullopt};
    std::set<std::string> objects, modules;
    for (const auto &file : patches.files) {
        if (is_documentation(file)) {
            ctx.note("ignoring " + file + " (not kernel code)");
            continue;
        }
        if (is_build_rule(file))
            return Error{"the patch changes " + file + ": a live patch cannot change how the "
                                                       "kernel is built or configured",
                         kExitUnsupported};
        if (!exists(tree.path + "/" + file))
            continue; // a new header: its users are changed files themselves
        bool direct = false;
        auto sources = finder.sources(file, direct);
        if (!sources)
            return sources.error();
        size_t before = objects.size(), before_m = modules.size();
        finder.classify(*sources, objects, modules);
        size_t added = objects.size() - before, added_m = modules.size() - before_m;
        if (!direct && added + added_m > 0)
            ctx.note(file + ": " + std::to_string(added) + " object(s) of vmlinux and " +
                     std::to_string(added_m) + " of modules include it");
        if (!direct && added + added_m == 0)
            ctx.note(file + (ends_with_any(file, {".c", ".S"})
                                 ? ": not built by this config"
                                 : ": no object built by this config includes it"));
    }
    objects.insert(modules.begin(), modules.end());
    if (objects.empty())
        return Error{"the patch changes no source file built by this config", kExitNoChange};
    return std::vector<std::string>(objects.begin(), objects.end());
}

} // namespace kpatch::driver
