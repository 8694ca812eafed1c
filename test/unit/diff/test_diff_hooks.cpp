// The differ on a patch that uses kpatch-patch.h: hook sections kept with their
// relocations, the core's shadow API left undefined (licence: GPL-2.0-only).
#include <elf.h>
#include <filesystem>
#include <fstream>
#include <unistd.h>

#include "diff/kernel_resolver.hpp"
#include "fixtures.hpp"

using namespace kpatch;
using fixtures::symbol;

namespace {

std::string write_temp(const std::string &name, const std::string &text)
{
    std::string path = (std::filesystem::temp_directory_path() /
                        ("kpatch-test-" + std::to_string(getpid()) + "-" + name)).string();
    std::ofstream(path) << text;
    return path;
}

// "offset:symbol" of every relocation of `sec`.
std::vector<std::string> targets(const elf::Object &o, const std::string &sec)
{
    std::vector<std::string> out;
    const elf::Section *s = o.find_section(sec);
    if (s && s->relocations)
        for (auto &r : s->relocations->entries)
            out.push_back(std::to_string(r.offset) + ":" + (r.symbol ? r.symbol->name : "-"));
    return out;
}

} // namespace

TEST_CASE("hook sections and the functions they name are kept", "[diff][hooks]")
{
    REQUIRE_FIXTURES();
    // The kernel's exports and, given again, the core's (as kpatch-build passes them).
    std::string kernel = write_temp("vmlinux.symvers",
                                    "0x1\t__fentry__\tvmlinux\tEXPORT_SYMBOL\t\n"
                                    "0x2\t__x86_return_thunk\tvmlinux\tEXPORT_SYMBOL\t\n");
    std::string core = write_temp("core.symvers",
                                  "0x4\tkpatch_shadow_get_or_alloc\t/b/kmod/core/kpatch\tEXPORT_SYMBOL_GPL\t\n"
                                  "0x5\tkpatch_shadow_free_all\t/b/kmod/core/kpatch\tEXPORT_SYMBOL_GPL\t\n");
    auto resolver = diff::KernelResolver::load("", kernel, "fixture.o", {core});
    REQUIRE(resolver);
    CHECK((*resolver)->is_exported("kpatch_shadow_free_all") == std::optional<bool>(true));
    CHECK((*resolver)->is_exported("__fentry__") == std::optional<bool>(true));
    CHECK((*resolver)->is_exported("hooks_value") == std::optional<bool>(false));

    diff::Options opt;
    opt.object_path = "fixture.o";
    opt.symbols = resolver->get();
    auto r = fixtures::diff("hooks", opt);
    REQUIRE(r.result.outcome == diff::Outcome::Changed);
    const elf::Object &out = *r.result.output;

    CHECK(targets(out, ".kpatch.hooks.pre_patch") == std::vector<std::string>{"0:hooks_pre_patch"});
    CHECK(targets(out, ".kpatch.hooks.post_unpatch") == std::vector<std::string>{"0:hooks_post_unpatch"});
    for (const char *fn : {"hooks_pre_patch", "hooks_post_unpatch"}) {
        const elf::Symbol *s = symbol(out, fn);
        REQUIRE(s);
        CHECK(s->is_defined());
        CHECK(std::count(r.result.new_functions.begin(), r.result.new_functions.end(), fn) == 1);
    }
    // The pointers are the module's business, not new data of the patch.
    CHECK(r.result.new_data.empty());

    // The core's exports stay plain undefined symbols, not .klp.sym placeholders.
    for (const char *fn : {"kpatch_shadow_get_or_alloc", "kpatch_shadow_free_all"}) {
        const elf::Symbol *s = symbol(out, fn);
        REQUIRE(s);
        CHECK_FALSE(s->is_defined());
        CHECK(std::count(r.result.undefined.begin(), r.result.undefined.end(), fn) == 1);
    }
    for (const auto &k : r.result.klp)
        CHECK(k.symbol.rfind("kpatch_shadow_", 0) != 0);
    std::filesystem::remove(kernel);
    std::filesystem::remove(core);
}

TEST_CASE("without the core's Module.symvers the shadow API would be a kernel symbol", "[diff][hooks]")
{
    REQUIRE_FIXTURES();
    std::string kernel = write_temp("vmlinux2.symvers", "0x1\t__fentry__\tvmlinux\tEXPORT_SYMBOL\t\n");
    auto resolver = diff::KernelResolver::load("", kernel, "fixture.o");
    REQUIRE(resolver);
    diff::Options opt;
    opt.object_path = "fixture.o";
    opt.symbols = resolver->get();
    auto r = fixtures::diff("hooks", opt);
    REQUIRE(r.result.outcome == diff::Outcome::Changed);
    bool klp = false;
    for (const auto &k : r.result.klp)
        klp |= k.symbol == "kpatch_shadow_free_all";
    CHECK(klp);   // why kpatch-build passes --symvers twice
    std::filesystem::remove(kernel);
}
