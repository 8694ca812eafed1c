// create-diff-object on an object of a module: its own symbols through .klp.sym.<module>,
// the entries' objname, and the refusal of module keys in load-time special sections
// (licence: GPL-2.0-only).
#include <elf.h>
#include <set>
#include <string>

#include "fake_module_kernel.hpp"
#include "fixtures.hpp"

using namespace kpatch;
using diff::Outcome;
using fixtures::FakeModuleKernel;
using fixtures::in_module;

namespace {

std::set<std::string> targets(const elf::Object &o, const std::string &sec)
{
    std::set<std::string> out;
    if (auto *s = o.find_section(sec); s && s->relocations)
        for (auto &r : s->relocations->entries)
            out.insert(r.symbol ? (r.symbol->is_section_symbol() ? r.symbol->section->name
                                                                 : r.symbol->name) : "");
    return out;
}

} // namespace

TEST_CASE("a module's object reaches its module through .klp.sym.<module> and vmlinux's exports directly",
          "[diff][fixture][module]")
{
    REQUIRE_FIXTURES();
    FakeModuleKernel k;
    auto r = fixtures::diff("module_part", in_module(k));
    REQUIRE(r.result.outcome == Outcome::Changed);
    REQUIRE(r.result.changed.size() == 1);
    CHECK(r.result.changed[0].old_name == "modpart_show");
    CHECK(r.result.changed[0].object == "ext4");
    CHECK(r.result.changed[0].sympos == 1);   // counted in ext4's table, not kallsyms

    // gcc may put it in .text.unlikely.modpart_show: find its section by the symbol.
    const elf::Symbol *show = fixtures::symbol(*r.result.output, "modpart_show");
    REQUIRE(show);
    REQUIRE(show->section);
    const std::string text_section = show->section->name;
    auto t = targets(*r.result.output, text_section);
    CHECK(t.count(".klp.sym.ext4.modpart_scale,2"));
    CHECK(t.count(".klp.sym.ext4.modpart_count,0"));
    CHECK(t.count(".klp.sym.ext4.modpart_helper,0"));
    // Another module's export: a placeholder too (no load dependency on jbd2) ...
    CHECK(t.count(".klp.sym.jbd2.modpart_other_export,0"));
    // ... while vmlinux's exports stay plain undefined symbols.
    CHECK(t.count("_printk"));
    for (auto &name : t)
        CHECK(name.rfind(".klp.sym.vmlinux.", 0) != 0);

    // The entry names its object: a relocation at objname into .kpatch.strings, "ext4".
    auto *funcs = r.result.output->find_section(".kpatch.funcs");
    REQUIRE(funcs);
    REQUIRE(funcs->relocations);
    bool objname = false;
    auto *strings = r.result.output->find_section(".kpatch.strings");
    REQUIRE(strings);
    for (auto &rel : funcs->relocations->entries)
        if (rel.offset == 64) {
            objname = true;
            std::string s(reinterpret_cast<const char *>(strings->data.data()) + rel.addend);
            CHECK(s == "ext4");
        }
    CHECK(objname);

    // The section with jbd2's symbol is recorded as ext4's, for kpatch-klp-convert.
    auto *owner = r.result.output->find_section(".kpatch.klp_owner");
    REQUIRE(owner);
    std::string text(owner->data.begin(), owner->data.end());
    CHECK(text == text_section + std::string("\0ext4\0", 6));
    CHECK((owner->flags & SHF_ALLOC) == 0);
}

TEST_CASE("a vmlinux object keeps objname empty (NULL = vmlinux)", "[diff][fixture][module]")
{
    REQUIRE_FIXTURES();
    FakeModuleKernel k;
    diff::Options o = in_module(k);
    o.klp_object = "vmlinux";
    auto r = fixtures::diff("module_part", o);
    REQUIRE(r.result.outcome == Outcome::Changed);
    CHECK(r.result.changed[0].object == "vmlinux");
    for (auto &rel : r.result.output->find_section(".kpatch.funcs")->relocations->entries)
        CHECK(rel.offset != 64);
    CHECK(r.result.output->find_section(".kpatch.klp_owner") == nullptr);
}

TEST_CASE("a static key of a module in a patched module function is refused, naming section and key",
          "[diff][fixture][module]")
{
    REQUIRE_FIXTURES();
    FakeModuleKernel k;
    auto r = fixtures::diff("jump_label", in_module(k));
    REQUIRE(r.result.outcome == Outcome::Refused);
    REQUIRE(r.result.output == nullptr);
    REQUIRE(r.result.refusals.size() == 1);
    const std::string &why = r.result.refusals[0];
    CHECK(why.find("__jump_table") != std::string::npos);
    CHECK(why.find("`fixture_key`") != std::string::npos);
    CHECK(why.find("module ext4") != std::string::npos);
    CHECK(why.find("static key") != std::string::npos);
}

TEST_CASE("an alternative's replacement calling a module function is refused (copied before the "
          "module's relocations exist)", "[diff][fixture][module]")
{
    REQUIRE_FIXTURES();
    FakeModuleKernel k;
    auto r = fixtures::diff("module_alt_call", in_module(k));
    REQUIRE(r.result.outcome == Outcome::Refused);
    REQUIRE(r.result.output == nullptr);
    REQUIRE(r.result.refusals.size() == 1);
    const std::string &why = r.result.refusals[0];
    CHECK(why.find(".altinstr_replacement") != std::string::npos);
    CHECK(why.find("`modalt_fast`") != std::string::npos);
    CHECK(why.find("module ext4") != std::string::npos);

    // The same object as part of vmlinux: vmlinux's relocations are written before the
    // alternatives are applied, so nothing is refused.
    diff::Options o = in_module(k);
    o.klp_object = "vmlinux";
    auto v = fixtures::diff("module_alt_call", o);
    CHECK(v.result.outcome == Outcome::Changed);
}

TEST_CASE("a static call whose key lives in the module is refused, naming .static_call_sites",
          "[diff][fixture][module]")
{
    REQUIRE_FIXTURES();
    FakeModuleKernel k;
    auto r = fixtures::diff("module_static_call", in_module(k));
    REQUIRE(r.result.outcome == Outcome::Refused);
    REQUIRE(r.result.output == nullptr);
    REQUIRE_FALSE(r.result.refusals.empty());
    bool named = false;
    for (auto &why : r.result.refusals)
        if (why.find(".static_call_sites") != std::string::npos &&
            why.find("__SCK__fixture_sc") != std::string::npos &&
            why.find("module ext4") != std::string::npos)
            named = true;
    CHECK(named);
}
