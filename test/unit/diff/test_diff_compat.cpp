// The differ on patches spanning objects and on patch sources written for kpatch
// (kpatch-macros.h): references between the patch's own objects, ignore markers,
// callbacks (licence: GPL-2.0-only).
#include <algorithm>
#include <cstring>
#include <elf.h>

#include "fixtures.hpp"

using namespace kpatch;
using fixtures::symbol;

namespace {

bool has(const std::vector<std::string> &v, const std::string &s)
{
    return std::find(v.begin(), v.end(), s) != v.end();
}

bool any_contains(const std::vector<std::string> &v, const std::string &s)
{
    return std::any_of(v.begin(), v.end(), [&](const std::string &x) { return x.find(s) != std::string::npos; });
}

// The names of the symbols that the relocations of section `sec` refer to.
std::vector<std::string> referred(const elf::Object &o, const std::string &sec)
{
    std::vector<std::string> out;
    const elf::Section *s = o.find_section(sec);
    if (s && s->relocations)
        for (auto &r : s->relocations->entries)
            out.push_back(r.symbol ? r.symbol->name : "-");
    return out;
}

} // namespace

TEST_CASE("a new global of another object of the patch is linked in the module, not looked up in the kernel",
          "[diff][compat]")
{
    REQUIRE_FIXTURES();
    diff::Options opt;
    opt.object_path = "fixture.o";
    opt.patch_symbols = {"cross_shared_helper", "cross_shared_counter"};
    auto r = fixtures::diff("cross_caller", opt);
    REQUIRE(r.result.outcome == diff::Outcome::Changed);
    const elf::Object &out = *r.result.output;
    for (const char *name : {"cross_shared_helper", "cross_shared_counter"}) {
        INFO(name);
        const elf::Symbol *s = symbol(out, name);
        REQUIRE(s);
        CHECK_FALSE(s->is_defined());
        CHECK(s->bind == STB_GLOBAL);
        CHECK(has(r.result.from_patch, name));
        CHECK(has(referred(out, ".text.cross_caller"), name));
        for (const auto &k : r.result.klp)
            CHECK(k.symbol != name);
    }
    CHECK(r.result.from_patch.size() == 2);   // one symbol each, however often referred to

    // Without the names, the same references go to the kernel (and would fail to load).
    diff::Options alone;
    alone.object_path = "fixture.o";
    auto k = fixtures::diff("cross_caller", alone);
    REQUIRE(k.result.outcome == diff::Outcome::Changed);
    CHECK(k.result.from_patch.empty());
    CHECK(symbol(*k.result.output, ".klp.sym.vmlinux.cross_shared_helper,0"));
    CHECK(symbol(*k.result.output, ".klp.sym.vmlinux.cross_shared_counter,0"));
}

TEST_CASE("an object that only adds globals for another object still gives an output carrying them",
          "[diff][compat]")
{
    REQUIRE_FIXTURES();
    auto r = fixtures::diff("cross_callee");
    REQUIRE(r.result.outcome == diff::Outcome::Changed);
    CHECK(r.result.changed.empty());
    CHECK(r.result.new_functions == std::vector<std::string>{"cross_shared_helper"});
    CHECK(r.result.new_data == std::vector<std::string>{"cross_shared_counter"});
    const elf::Object &out = *r.result.output;
    for (const char *name : {"cross_shared_helper", "cross_shared_counter"}) {
        INFO(name);
        const elf::Symbol *s = symbol(out, name);
        REQUIRE(s);
        CHECK(s->is_defined());
        CHECK(s->bind == STB_GLOBAL);   // so the other object's reference links to it
    }
    const elf::Symbol *counter = symbol(out, "cross_shared_counter");
    REQUIRE(counter->section);
    REQUIRE(counter->section->data.size() >= 4);
    int value = 0;
    std::memcpy(&value, counter->section->data.data() + counter->value, sizeof(value));
    CHECK(value == 7);
    CHECK(symbol(out, "cross_callee_existing") == nullptr);   // unchanged: not carried
}

TEST_CASE("KPATCH_IGNORE_FUNCTION and _SECTION keep what they cover as the kernel has it; KPATCH_FORCE_UNSAFE flags",
          "[diff][compat]")
{
    REQUIRE_FIXTURES();
    auto r = fixtures::diff("ignore");
    INFO(r.result.refusals.size() << " refusal(s); first: "
                                  << (r.result.refusals.empty() ? "" : r.result.refusals.front()));
    // Without the section ignored, ignore_counter's new initializer would be refused.
    REQUIRE(r.result.outcome == diff::Outcome::Changed);
    std::vector<std::string> changed;
    for (auto &c : r.result.changed)
        changed.push_back(c.name);
    CHECK(changed == std::vector<std::string>{"ignore_real_fix"});
    CHECK(has(r.result.ignored, "ignore_side_effect"));
    CHECK(has(r.result.ignored, "ignore_counter"));
    const elf::Object &out = *r.result.output;
    // The fix calls and reads the kernel's copies.
    CHECK(symbol(out, "ignore_side_effect") == nullptr);
    CHECK(symbol(out, "ignore_counter") == nullptr);
    CHECK(symbol(out, ".klp.sym.vmlinux.ignore_side_effect,0"));
    CHECK(symbol(out, ".klp.sym.vmlinux.ignore_counter,0"));
    CHECK(out.find_section(".kpatch.ignore.functions") == nullptr);
    CHECK(out.find_section(".kpatch.ignore.sections") == nullptr);
    CHECK(out.find_section(".kpatch.force") == nullptr);
    // KPATCH_FORCE_UNSAFE: the entry's flags carry KPATCH_FUNC_NO_STACK_CHECK (bit 0).
    CHECK(r.result.unsafe == std::vector<std::string>{"ignore_real_fix"});
    const elf::Section *funcs = out.find_section(".kpatch.funcs");
    REQUIRE(funcs);
    REQUIRE(funcs->data.size() >= 40);
    uint64_t flags = 0;
    std::memcpy(&flags, funcs->data.data() + 32, 8);
    CHECK((flags & 0x1) == 0x1);
    CHECK(any_contains(r.result.warnings, "`ignore_real_fix` skips the stack check"));
    CHECK(any_contains(r.result.warnings, "`ignore_side_effect` changed, but the patch ignores it"));
    CHECK(any_contains(r.result.warnings, "KPATCH_IGNORE_SECTION(\".text.no_such_section\") names no section"));
}

TEST_CASE("a malformed ignore section is an input error naming the macros", "[diff][compat]")
{
    REQUIRE_FIXTURES();
    auto orig = fixtures::load("orig", "ignore");
    auto patched = fixtures::load("patched", "ignore");
    elf::Section *s = patched->find_section(".kpatch.ignore.functions");
    REQUIRE(s);
    s->data.back() = 'x';   // the last entry loses its NUL
    auto r = diff::run_diff(*orig, *patched, {});
    REQUIRE_FALSE(r);
    CHECK(r.error().message.find("KPATCH_IGNORE_FUNCTION") != std::string::npos);
}

TEST_CASE("kpatch-macros.h callbacks and load hooks become kpatch-patch.h hooks", "[diff][compat]")
{
    REQUIRE_FIXTURES();
    auto r = fixtures::diff("callbacks");
    REQUIRE(r.result.outcome == diff::Outcome::Changed);
    const elf::Object &out = *r.result.output;
    // Each callback is reached through a wrapper that passes the object.
    CHECK(referred(out, ".kpatch.hooks.pre_patch") ==
          std::vector<std::string>{"kpatch_callback_callbacks_pre_patch"});
    CHECK(referred(out, ".kpatch.hooks.post_unpatch") ==
          std::vector<std::string>{"kpatch_callback_callbacks_post_unpatch"});
    CHECK(referred(out, ".kpatch.hooks.post_patch") == std::vector<std::string>{"callbacks_load"});
    // (gcc may fold a callback into its wrapper: only the wrappers are sure to exist.)
    for (const char *fn : {"kpatch_callback_callbacks_pre_patch", "kpatch_callback_callbacks_post_unpatch",
                           "callbacks_load"})
        CHECK(has(r.result.new_functions, fn));
    // (The object the callbacks are told about is never written: gcc may fold obj->name
    // into the callback, so whether it is carried as new data is gcc's choice.)
}
