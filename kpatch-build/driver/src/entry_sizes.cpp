// Step "entry sizes": the kernel tree's struct sizes for the differ (licence: GPL-2.0-only).
//
// Why the tree, when the differ can read sizes from an object's DWARF and relocations:
// the tables are written by inline assembler, so an object's DWARF names the struct only
// when some C code there uses the type, and a kernel built without debug info has no
// DWARF at all; the relocation stride is a guess when every field is relocated alike.
// The tree's headers, compiled with its configuration, are the definition.
#include "entry_sizes.hpp"

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "build_objects.hpp"
#include "process.hpp"
#include "worktree.hpp"
#include "arch/kernel_layout.hpp"
#include "elf/object.hpp"

namespace kpatch::driver {

namespace fs = std::filesystem;

namespace {

constexpr const char *kProbeDir = "kpatch-entry-sizes";
constexpr const char *kProbeSymbol = "kpatch_entry_size";
constexpr const char *kCacheName = ".kpatch-entry-sizes.json";

// An array whose size is the struct's: the symbol's st_size says it, nothing runs.
std::string probe_source(const arch::EntryStruct &p)
{
    return std::string("// kpatch-build: how many bytes one entry of ") + p.section + " is.\n" +
           // Kernel headers are not all self-contained (asm/extable.h needs bool).
           "#include <linux/types.h>\n#include <" + p.header + ">\n" +
           "const char " + kProbeSymbol + "[sizeof(struct " + p.type + ")] __attribute__((used)) = {0};\n";
}

// The size of the probe symbol in `object`, or 0 when it was not built or has none.
uint64_t probed_size(const std::string &object)
{
    if (!fs::exists(object))
        return 0;
    auto obj = elf::read_object(object);
    if (!obj)
        return 0;
    for (const auto &s : (*obj)->symbols)
        if (s->is_defined() && s->name == kProbeSymbol)
            return s->size;
    return 0;
}

} // namespace

Expected<std::string> kernel_entry_sizes(const Context &ctx, const PreparedTree &tree,
                                         const std::string &work)
{
    std::string cached = tree.objects + "/" + kCacheName;
    if (fs::exists(cached))
        return cached;

    std::string probe_tree = work + "/entry-sizes";
    if (auto ok = make_work_tree(tree.path, probe_tree, {}); !ok)
        return ok.error();
    std::string dir = probe_tree + "/" + kProbeDir;
    std::error_code ec;
    fs::create_directories(dir, ec);
    // kbuild builds single objects of a directory only when it has a Makefile.
    if (auto ok = write_text_atomic(dir + "/Makefile", "# kpatch-build's entry-size probes\n"); !ok)
        return ok.error();
    std::vector<std::string> goals;
    const auto probes = arch::host_kernel_layout().entry_structs;
    for (const auto &p : probes) {
        std::string name = std::string(kProbeDir) + "/" + p.type;
        if (auto ok = write_text_atomic(probe_tree + "/" + name + ".c", probe_source(p)); !ok)
            return ok.error();
        goals.push_back(name + ".o");
    }
    // -k: the probes of structs this version lacks fail; the others are still built.
    auto out = make_in_work_tree(ctx, tree, probe_tree, goals, ctx.jobs, {"-k"});
    if (!out)
        return out.error();

    nlohmann::json sizes = nlohmann::json::object();
    for (const auto &p : probes)
        if (uint64_t n = probed_size(probe_tree + "/" + kProbeDir + "/" + p.type + ".o"))
            sizes[p.section] = n;
    if (sizes.empty()) {
        // Not fatal: the differ still has the objects' own DWARF and relocations. Not
        // cached either, so the next run measures again.
        ctx.note("no entry-size probe compiled in " + tree.path + " (log: " + probe_tree +
                 ".log); the differ takes special-section entry sizes from the objects alone");
        return std::string();
    }
    fs::create_directories(tree.objects, ec);
    if (auto ok = write_text_atomic(cached, sizes.dump(2) + "\n"); !ok)
        return ok.error();
    return cached;
}

} // namespace kpatch::driver
