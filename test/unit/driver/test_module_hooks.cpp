// Tests of the patch hooks in the generated module: found in the differ's objects, at
// most one of a kind, wired into the module source (licence: GPL-2.0-only).
#include <catch2/catch.hpp>

#include <elf.h>
#include <filesystem>
#include <unistd.h>

#include "elf/object.hpp"
#include "module.hpp"
#include "module_hooks.hpp"

using namespace kpatch::driver;
namespace elf = kpatch::elf;

namespace {

// A differ output with one function per hook, each in .kpatch.hooks.<kind> as
// kpatch-patch.h puts it: an 8-byte pointer with an R_X86_64_64 relocation.
std::string hook_object(const std::string &name,
                        const std::vector<std::pair<std::string, std::string>> &hooks)
{
    elf::Object o;
    o.machine = EM_X86_64;
    for (const auto &[kind, fn] : hooks) {
        auto text = std::make_unique<elf::Section>();
        text->name = ".text." + fn;
        text->type = SHT_PROGBITS;
        text->flags = SHF_ALLOC | SHF_EXECINSTR;
        text->data = {0xc3};
        elf::Section &t = o.add_section(std::move(text));
        auto sym = std::make_unique<elf::Symbol>();
        sym->name = fn;
        sym->bind = STB_LOCAL;
        sym->type = STT_FUNC;
        sym->placement = elf::Placement::InSection;
        sym->section = &t;
        sym->size = 1;
        elf::Symbol &f = o.add_symbol(std::move(sym));

        elf::Section *hs = o.find_section(".kpatch.hooks." + kind);
        if (!hs) {
            auto s = std::make_unique<elf::Section>();
            s->name = ".kpatch.hooks." + kind;
            s->type = SHT_PROGBITS;
            s->flags = SHF_ALLOC | SHF_WRITE;
            s->addralign = 8;
            hs = &o.add_section(std::move(s));
        }
        uint64_t at = hs->data.size();
        hs->data.resize(at + 8, 0);
        o.relocations_for(*hs).entries.push_back({at, R_X86_64_64, &f, 0});
    }
    std::string path = (std::filesystem::temp_directory_path() /
                        ("kpatch-hooks-" + std::to_string(getpid()) + "-" + name + ".o")).string();
    REQUIRE(elf::write_object(o, path));
    return path;
}

} // namespace

TEST_CASE("hooks are found in the differ's objects, one of each kind", "[module][hooks]")
{
    std::string a = hook_object("a", {{"pre_patch", "check_state"}, {"post_unpatch", "free_all"}});
    std::string b = hook_object("b", {{"post_patch", "announce"}});
    auto hooks = find_hooks({{"fs/proc/a.o", a, {}, ""}, {"fs/proc/b.o", b, {}, ""}});
    REQUIRE(hooks);
    REQUIRE(hooks->size() == 3);
    // In the order the core calls them, whichever object they come from.
    CHECK((*hooks)[0].kind == "pre_patch");
    CHECK((*hooks)[0].function == "check_state");
    CHECK((*hooks)[0].object == "fs/proc/a.o");
    CHECK((*hooks)[1].kind == "post_patch");
    CHECK((*hooks)[1].object == "fs/proc/b.o");
    CHECK((*hooks)[2].function == "free_all");
    auto m = hooks_manifest(*hooks);
    CHECK(m == nlohmann::json{{"pre_patch", "check_state"}, {"post_patch", "announce"},
                              {"post_unpatch", "free_all"}});
    std::filesystem::remove(a);
    std::filesystem::remove(b);
}

TEST_CASE("two hooks of a kind in one module are an error naming both", "[module][hooks]")
{
    std::string a = hook_object("dup-a", {{"pre_patch", "first"}});
    std::string b = hook_object("dup-b", {{"pre_patch", "second"}, {"post_patch", "fine"}});
    auto hooks = find_hooks({{"fs/proc/version.o", a, {}, ""}, {"fs/proc/cmdline.o", b, {}, ""}});
    REQUIRE_FALSE(hooks);
    CHECK(hooks.error().code == kExitError);
    CHECK_THAT(hooks.error().message, Catch::Contains("2 pre_patch hooks"));
    CHECK_THAT(hooks.error().message, Catch::Contains("`first` (fs/proc/version.o)"));
    CHECK_THAT(hooks.error().message, Catch::Contains("`second` (fs/proc/cmdline.o)"));
    CHECK_THAT(hooks.error().message, Catch::Contains("KPATCH_PRE_PATCH_HOOK"));

    // Two in one object (one section of 16 bytes) count as two as well.
    std::string c = hook_object("dup-c", {{"post_unpatch", "x"}, {"post_unpatch", "y"}});
    auto same = find_hooks({{"kernel/fork.o", c, {}, ""}});
    REQUIRE_FALSE(same);
    CHECK_THAT(same.error().message, Catch::Contains("`x` (kernel/fork.o) `y` (kernel/fork.o)"));

    std::string d = hook_object("unknown", {{"pre_load", "z"}});
    auto unknown = find_hooks({{"mm/x.o", d, {}, ""}});
    REQUIRE_FALSE(unknown);
    CHECK_THAT(unknown.error().message, Catch::Contains(".kpatch.hooks.pre_load"));
    for (const auto &p : {a, b, c, d})
        std::filesystem::remove(p);
}

TEST_CASE("the module source calls the patch's hooks from the desc", "[module][hooks]")
{
    nlohmann::json m = {{"patches", nlohmann::json::array()}, {"replaced", nlohmann::json::array()},
                        {"new", nlohmann::json::array()}, {"kernel_release", "6.1.0-56-amd64"}};
    std::string plain = module_source(m);
    CHECK_THAT(plain, !Catch::Contains(".pre_patch"));
    CHECK_THAT(plain, !Catch::Contains("__kpatch_hooks"));

    m["hooks"] = {{"pre_patch", "check_state"}, {"post_unpatch", "free_all"}};
    std::string src = module_source(m);
    CHECK_THAT(src, Catch::Contains("extern int (*const __kpatch_hooks_pre_patch[])(void);"));
    CHECK_THAT(src, Catch::Contains("static int kpatch_pre_patch_check_state(struct kpatch_patch_desc *patch)"));
    CHECK_THAT(src, Catch::Contains("\treturn __kpatch_hooks_pre_patch[0]();"));
    CHECK_THAT(src, Catch::Contains("static void kpatch_post_unpatch_free_all(struct kpatch_patch_desc *patch)"));
    CHECK_THAT(src, Catch::Contains("\t__kpatch_hooks_post_unpatch[0]();"));
    CHECK_THAT(src, Catch::Contains("\t.pre_patch = kpatch_pre_patch_check_state,\n"));
    CHECK_THAT(src, Catch::Contains("\t.post_unpatch = kpatch_post_unpatch_free_all,\n"));
    CHECK_THAT(src, !Catch::Contains(".post_patch"));
    // The wrappers come before the desc that names them.
    REQUIRE(src.find("struct kpatch_patch_desc kpatch_patch = {") != std::string::npos);
    CHECK(src.find("kpatch_pre_patch_check_state(struct") < src.find("struct kpatch_patch_desc kpatch_patch = {"));
    CHECK_THAT(std::string(kHooksLinkerScript), Catch::Contains("__kpatch_hooks_post_unpatch = .;"));
    // Hooks of vmlinux files belong to the patch as a whole: no object named.
    CHECK_THAT(src, !Catch::Contains("hooks_objname"));

    // Hooks of a module's files follow that module's part.
    m["hooks_object"] = "x_tables";
    CHECK_THAT(module_source(m), Catch::Contains("\t.hooks_objname = \"x_tables\",\n"));
}

TEST_CASE("hooks belong to the kernel object of their files, one object per module",
          "[module][hooks]")
{
    std::string a = hook_object("mod-a", {{"pre_patch", "pre"}, {"post_unpatch", "post"}});
    std::string b = hook_object("mod-b", {{"post_patch", "announce"}});
    auto hooks = find_hooks({{"net/netfilter/x_tables.o", a, {}, "x_tables"},
                             {"net/netfilter/xt_tcpudp.o", b, {}, "x_tables"}});
    REQUIRE(hooks);
    CHECK(hooks_module(*hooks) == "x_tables");
    CHECK((*hooks)[1].module == "x_tables");

    auto vmlinux = find_hooks({{"fs/proc/cmdline.o", b, {}, ""}});
    REQUIRE(vmlinux);
    CHECK(hooks_module(*vmlinux).empty());
    CHECK(hooks_module({}).empty());

    auto mixed = find_hooks({{"net/netfilter/x_tables.o", a, {}, "x_tables"},
                             {"fs/proc/cmdline.o", b, {}, ""}});
    REQUIRE_FALSE(mixed);
    CHECK(mixed.error().code == kExitError);
    CHECK_THAT(mixed.error().message, Catch::Contains("`pre` (net/netfilter/x_tables.o) belongs to module x_tables"));
    CHECK_THAT(mixed.error().message, Catch::Contains("`announce` (fs/proc/cmdline.o) to vmlinux"));
    for (const auto &p : {a, b})
        std::filesystem::remove(p);
}
