// create-diff-object's rules on small C fixtures built with the kernel's flags (licence: GPL-2.0-only).
#include <algorithm>
#include <cstring>
#include <elf.h>
#include <set>

#include <nlohmann/json.hpp>

#include "fixtures.hpp"

using namespace kpatch;
using fixtures::relocation_targets;
using diff::Outcome;
using fixtures::symbol;

namespace {

// A kernel in which a few names are exported and `count.0` exists three times.
class FakeKernel : public diff::SymbolResolver {
public:
    std::set<std::string, std::less<>> exported{"__fentry__", "__x86_return_thunk", "seq_puts", "_printk",
                                               "dump_stack"};
    Expected<unsigned long> position(std::string_view name, bool is_local,
                                     const std::vector<std::string> &) const override
    {
        if (name == "count.0" && is_local)
            return 2ul;
        if (name == "fixture_missing")
            return Error{"not in kallsyms"};
        // As on Debian 6.1 (405 `__func__.0`): copies of local constants cannot be told apart.
        if (name.rfind("__func__.", 0) == 0 || name == "fixture_weights")
            return Error{"cannot tell which of the 405 kernel symbols named `" + std::string(name) + "`"};
        return 0ul;
    }
    bool knows_exports() const override { return true; }
    bool is_exported(std::string_view name) const override
    {
        return exported.count(name) != 0;
    }
};

diff::Options with_kernel(const FakeKernel &k)
{
    diff::Options o;
    o.object_path = "fixture.o";
    o.symbols = &k;
    return o;
}

std::vector<std::string> names(const std::vector<diff::ChangedFunction> &v)
{
    std::vector<std::string> out;
    for (auto &c : v)
        out.push_back(c.name);
    return out;
}

const elf::Section *section(const elf::Object &o, const std::string &name)
{
    return o.find_section(name);
}

bool contains(const std::vector<std::string> &v, const std::string &s)
{
    return std::find(v.begin(), v.end(), s) != v.end();
}

} // namespace

TEST_CASE("a changed function is the only function in the output, with its new string", "[diff][fixture]")
{
    REQUIRE_FIXTURES();
    FakeKernel k;
    auto r = fixtures::diff("changed", with_kernel(k));
    REQUIRE(r.result.outcome == Outcome::Changed);
    CHECK(names(r.result.changed) == std::vector<std::string>{"fixture_show"});
    auto &out = *r.result.output;
    const elf::Symbol *f = symbol(out, "fixture_show");
    REQUIRE(f);
    CHECK(f->type == STT_FUNC);
    CHECK(f->bind == STB_GLOBAL);
    CHECK(f->size == r.result.changed[0].new_size);
    CHECK(symbol(out, "fixture_other") == nullptr);
    // seq_puts and __fentry__ are exported: plain undefined symbols, no klp placeholder.
    CHECK(symbol(out, "seq_puts"));
    CHECK(!symbol(out, "seq_puts")->is_defined());
    CHECK(r.result.klp.empty());
    // The new string travels with the function.
    bool has_string = false;
    for (auto &s : out.sections)
        if (s->is_string_table_like()) {
            std::string text(s->data.begin(), s->data.end());
            has_string |= text.find("hello, patched") != std::string::npos;
        }
    CHECK(has_string);
    // .kpatch.funcs: one 96-byte entry, new_func -> fixture_show, old_name -> .kpatch.strings,
    // the verification bytes and mask -> .kpatch.verify (test_diff_verify.cpp).
    auto *funcs = section(out, ".kpatch.funcs");
    REQUIRE(funcs);
    CHECK(funcs->data.size() == 96);
    CHECK(relocation_targets(out, ".kpatch.funcs") ==
          std::vector<std::string>{"fixture_show", ".kpatch.strings", ".kpatch.verify", ".kpatch.verify"});
    auto *strings = section(out, ".kpatch.strings");
    REQUIRE(strings);
    CHECK(std::string(strings->data.begin(), strings->data.end()) == std::string("fixture_show\0", 13));
    uint64_t old_size = 0;
    std::memcpy(&old_size, funcs->data.data() + 24, 8);
    CHECK(old_size == r.result.changed[0].old_size);
    // Special entries: exactly those of the kept function.
    CHECK(r.result.special_entries.at("__mcount_loc") == 1);
    CHECK(section(out, "__mcount_loc")->data.size() == 8);
    CHECK(r.result.special_entries.count(".orc_unwind_ip"));
    CHECK(section(out, ".orc_unwind")->data.size() / 6 == section(out, ".orc_unwind_ip")->data.size() / 4);
    CHECK(r.result.special_entries.count(".return_sites"));
}

TEST_CASE("identical objects: nothing changed (exit 3)", "[diff][fixture]")
{
    REQUIRE_FIXTURES();
    auto r = fixtures::diff("unchanged");
    CHECK(r.result.outcome == Outcome::Unchanged);
    CHECK(static_cast<int>(r.result.outcome) == 3);
    CHECK(r.result.output == nullptr);
}

TEST_CASE("a patch that only moves lines changes nothing", "[diff][fixture][lines]")
{
    REQUIRE_FIXTURES();
    auto r = fixtures::diff("lineshift");
    CHECK(r.result.outcome == Outcome::Unchanged);
    // Both the bug-table line (WARN_ON) and the immediate __LINE__ argument moved.
    CHECK(contains(r.result.line_shift_only, "fixture_warn"));
    CHECK(contains(r.result.line_shift_only, "fixture_line"));
    // fixture_where returns a string with the line in it ("...:21"): not changed either.
    CHECK(r.result.changed.empty());
}

TEST_CASE("a moved line does not hide a real change below it", "[diff][fixture][lines]")
{
    REQUIRE_FIXTURES();
    auto r = fixtures::diff("lineshift_plus");
    REQUIRE(r.result.outcome == Outcome::Changed);
    CHECK(names(r.result.changed) == std::vector<std::string>{"fixture_line"});
    CHECK(contains(r.result.line_shift_only, "fixture_warn"));
    CHECK(symbol(*r.result.output, "fixture_warn") == nullptr);
}

TEST_CASE("a new function is copied; an unchanged static callee is reached through klp", "[diff][fixture]")
{
    REQUIRE_FIXTURES();
    FakeKernel k;
    auto r = fixtures::diff("newfunc", with_kernel(k));
    REQUIRE(r.result.outcome == Outcome::Changed);
    CHECK(names(r.result.changed) == std::vector<std::string>{"fixture_entry"});
    CHECK(r.result.new_functions == std::vector<std::string>{"fixture_new_helper"});
    auto &out = *r.result.output;
    auto *nf = symbol(out, "fixture_new_helper");
    REQUIRE(nf);
    CHECK(nf->is_defined());
    CHECK(nf->type == STT_FUNC);
    CHECK(nf->bind == STB_LOCAL);
    auto *klp = symbol(out, ".klp.sym.vmlinux.fixture_helper,0");
    REQUIRE(klp);
    CHECK(!klp->is_defined());
    CHECK(symbol(out, "fixture_helper") == nullptr);
    REQUIRE(r.result.klp.size() == 1);
    CHECK(r.result.klp[0].symbol == "fixture_helper");
    CHECK(r.result.klp[0].section == ".text.fixture_entry");
    // New functions get no .kpatch.funcs entry: only the one changed function does.
    CHECK(section(out, ".kpatch.funcs")->data.size() == 96);
    CHECK(r.result.special_entries.at("__mcount_loc") == 2);
}

TEST_CASE("static locals pair through their function; the kernel's copy is used", "[diff][fixture]")
{
    REQUIRE_FIXTURES();
    FakeKernel k;
    auto r = fixtures::diff("static_local", with_kernel(k));
    REQUIRE(r.result.outcome == Outcome::Changed);
    CHECK(names(r.result.changed) == std::vector<std::string>{"fixture_count_b"});
    // fixture_count_b's `count` is not copied: its state lives in the kernel.
    CHECK(r.result.new_data.empty());
    auto &out = *r.result.output;
    const elf::Symbol *b_count = nullptr;
    for (auto &s : r.orig->symbols)
        if (s->name.rfind("count.", 0) == 0) {
            // The one fixture_count_b uses is in the section its relocations name.
            for (auto &rel : r.orig->find_section(".text.fixture_count_b")->relocations->entries)
                if (rel.symbol && rel.symbol->section == s->section)
                    b_count = s.get();
        }
    REQUIRE(b_count);
    CHECK(symbol(out, ".klp.sym.vmlinux." + b_count->name + ",2"));
    for (auto &kr : r.result.klp)
        CHECK(kr.sympos == 2);
}

TEST_CASE("a changed initializer of writable data is refused (exit 2), naming it", "[diff][fixture][refuse]")
{
    REQUIRE_FIXTURES();
    auto r = fixtures::diff("data_init");
    REQUIRE(r.result.outcome == Outcome::Refused);
    CHECK(static_cast<int>(r.result.outcome) == 2);
    REQUIRE(r.result.refusals.size() == 1);
    CHECK_THAT(r.result.refusals[0], Catch::Contains("fixture_limit") && Catch::Contains("shadow variable"));
    CHECK(r.result.output == nullptr);
}

TEST_CASE("a changed __init function is refused", "[diff][fixture][refuse]")
{
    REQUIRE_FIXTURES();
    auto r = fixtures::diff("init_change");
    REQUIRE(r.result.outcome == Outcome::Refused);
    CHECK_THAT(r.result.refusals.at(0), Catch::Contains("fixture_init") && Catch::Contains("__init"));
}

TEST_CASE("a changed function sharing its section is refused", "[diff][fixture][refuse]")
{
    REQUIRE_FIXTURES();
    auto r = fixtures::diff("shared_section");
    REQUIRE(r.result.outcome == Outcome::Refused);
    CHECK_THAT(r.result.refusals.at(0), Catch::Contains("fixture_s1") && Catch::Contains(".text.fixture_shared"));
}

TEST_CASE("an unknown table of sites inside a changed function is refused", "[diff][fixture][refuse]")
{
    REQUIRE_FIXTURES();
    auto r = fixtures::diff("unknown_special");
    REQUIRE(r.result.outcome == Outcome::Refused);
    CHECK_THAT(r.result.refusals.at(0), Catch::Contains(".fixture_sites") && Catch::Contains("fixture_site"));
}

TEST_CASE("a changed const table changes its user, which gets a new copy of it", "[diff][fixture]")
{
    REQUIRE_FIXTURES();
    auto r = fixtures::diff("rodata_change");
    REQUIRE(r.result.outcome == Outcome::Changed);
    CHECK(names(r.result.changed) == std::vector<std::string>{"fixture_lookup"});
    auto &out = *r.result.output;
    auto *table = symbol(out, "fixture_table");
    REQUIRE(table);
    REQUIRE(table->is_defined());
    int32_t last = 0;
    std::memcpy(&last, table->section->data.data() + table->value + 28, 4);
    CHECK(last == 35);
    for (auto &kr : r.result.klp)
        CHECK(kr.symbol != "fixture_table");
}

TEST_CASE("local read-only constants are copied; writable data, address tables and stored addresses stay the kernel's",
          "[diff][fixture][constants]")
{
    REQUIRE_FIXTURES();
    FakeKernel k;
    auto r = fixtures::diff("rodata_copy", with_kernel(k));
    REQUIRE(r.result.outcome == Outcome::Changed);
    CHECK(names(r.result.changed) == std::vector<std::string>{"fixture_weigh"});
    auto &out = *r.result.output;
    // The target of the relocation in `where` to `name` (a copy) or to its klp placeholder;
    // a `name` ending in '.' stands for any compiler number (`__func__.` for __func__.1).
    auto target_in = [&](const std::string &where, const std::string &name) -> const elf::Symbol * {
        auto *s = section(out, where);
        if (!s || !s->relocations)
            return nullptr;
        std::string klp = ".klp.sym.vmlinux." + name + (name.ends_with('.') ? "" : ",");
        for (auto &rel : s->relocations->entries)
            if (rel.symbol && (rel.symbol->name == name || rel.symbol->name.rfind(klp, 0) == 0 ||
                               (name.ends_with('.') && rel.symbol->name.rfind(name, 0) == 0)))
                return rel.symbol;
        return nullptr;
    };
    // __func__ (used by the .cold part, or by the function when the compiler made none) and
    // the byte table: copies in sections of their own, which the relocations point at.
    std::string func_user = symbol(out, "fixture_weigh.cold") ? ".text.unlikely.fixture_weigh"
                                                              : ".text.fixture_weigh";
    const elf::Symbol *func = target_in(func_user, "__func__.");
    REQUIRE(func);
    REQUIRE(func->is_defined());
    CHECK(func->section->name == ".rodata." + func->name);
    CHECK(std::string(reinterpret_cast<const char *>(func->section->data.data())) == "fixture_weigh");
    const elf::Symbol *weights = target_in(".text.fixture_weigh", "fixture_weights");
    REQUIRE(weights);
    REQUIRE(weights->is_defined());
    CHECK(weights->section->name == ".rodata.fixture_weights");
    REQUIRE(weights->section->data.size() == 16);
    CHECK(weights->section->data[5] == 9);
    // Writable state, a table of addresses, a constant whose address static data stores:
    // the kernel's, through klp relocations, and not copied.
    std::set<std::string> klp;
    for (auto &kr : r.result.klp)
        klp.insert(kr.symbol);
    // fixture_site.N, a writable descriptor that stores __func__ (as dynamic debug's do),
    // is state: the kernel's. The __func__ the code uses is still the copy.
    std::string site;
    for (auto &n : klp)
        if (n.rfind("fixture_site.", 0) == 0)
            site = n;
    CHECK(!site.empty());
    // (fixture_register, fixture_name, fixture_note: undefined, unexported functions.)
    CHECK(klp == std::set<std::string>{"fixture_state", "fixture_ops", "fixture_label", site, "fixture_register",
                                       "fixture_name", "fixture_note"});
    for (const std::string &kernel : {std::string("fixture_state"), std::string("fixture_ops"),
                                      std::string("fixture_label"), site}) {
        const elf::Symbol *t = target_in(".text.fixture_weigh", kernel);
        REQUIRE(t);
        CHECK(!t->is_defined());
        CHECK(t->name.rfind(".klp.sym.vmlinux.", 0) == 0);
    }
    CHECK(section(out, ".rodata.fixture_ops") == nullptr);
    CHECK(section(out, ".rodata.fixture_label") == nullptr);
    CHECK(r.result.new_data.empty());   // copies of kernel constants are not new data
}

TEST_CASE("WARN_ON_ONCE/pr_info_once: .data.once flags of the kernel are used", "[diff][fixture]")
{
    REQUIRE_FIXTURES();
    FakeKernel k;
    auto r = fixtures::diff("once", with_kernel(k));
    REQUIRE(r.result.outcome == Outcome::Changed);
    CHECK(names(r.result.changed) == std::vector<std::string>{"fixture_once"});
    bool once = false;
    for (auto &kr : r.result.klp)
        once |= kr.symbol.rfind("__already_done", 0) == 0;
    CHECK(once);
    CHECK(section(*r.result.output, ".data.once") == nullptr);
    // The WARN_ON_ONCE bug entry of fixture_once only, with its file string.
    CHECK(r.result.special_entries.at("__bug_table") == 1);
    CHECK(section(*r.result.output, "__bug_table")->data.size() == 12);
}

TEST_CASE("jump labels: the entry is kept and its key is the kernel's", "[diff][fixture]")
{
    REQUIRE_FIXTURES();
    FakeKernel k;
    auto r = fixtures::diff("jump_label", with_kernel(k));
    REQUIRE(r.result.outcome == Outcome::Changed);
    CHECK(r.result.special_entries.at("__jump_table") == 1);
    auto t = relocation_targets(*r.result.output, "__jump_table");
    REQUIRE(t.size() == 3);
    CHECK(t[2] == ".klp.sym.vmlinux.fixture_key,0");
    CHECK(symbol(*r.result.output, "fixture_key") == nullptr);
}

TEST_CASE("alternatives: the entry and its replacement code are kept", "[diff][fixture]")
{
    REQUIRE_FIXTURES();
    auto r = fixtures::diff("alternative");
    REQUIRE(r.result.outcome == Outcome::Changed);
    CHECK(r.result.special_entries.at(".altinstructions") == 1);
    auto &out = *r.result.output;
    REQUIRE(section(out, ".altinstr_replacement"));
    CHECK(section(out, ".altinstructions")->data.size() == 12);
    auto t = relocation_targets(out, ".altinstructions");
    CHECK(contains(t, ".altinstr_replacement"));
}

TEST_CASE("exception table entries of a changed function are kept", "[diff][fixture]")
{
    REQUIRE_FIXTURES();
    auto r = fixtures::diff("extable");
    REQUIRE(r.result.outcome == Outcome::Changed);
    CHECK(r.result.special_entries.count("__ex_table"));
    auto t = relocation_targets(*r.result.output, "__ex_table");
    CHECK(!t.empty());
}

TEST_CASE("the .cold part of a changed function travels with it", "[diff][fixture]")
{
    REQUIRE_FIXTURES();
    auto r = fixtures::diff("cold");
    REQUIRE(r.result.outcome == Outcome::Changed);
    CHECK(names(r.result.changed) == std::vector<std::string>{"fixture_cold"});
    auto &out = *r.result.output;
    if (!symbol(*r.patched, "fixture_cold.cold")) {
        WARN("the compiler made no .cold part here");
        return;
    }
    auto *cold = symbol(out, "fixture_cold.cold");
    REQUIRE(cold);
    CHECK(cold->is_defined());
    CHECK(section(out, ".kpatch.funcs")->data.size() == 96);   // not an entry point of its own
    // The entry names both versions' cold parts, so the core's stack check covers them:
    // old_cold_name (+72) -> .kpatch.strings "fixture_cold.cold", new_cold (+88) -> the copy.
    CHECK(r.result.changed[0].old_cold == "fixture_cold.cold");
    CHECK(r.result.changed[0].new_cold == "fixture_cold.cold");
    auto *funcs = section(out, ".kpatch.funcs");
    REQUIRE(funcs->relocations);
    const elf::Relocation *old_cold = nullptr, *new_cold = nullptr;
    for (auto &rel : funcs->relocations->entries) {
        if (rel.offset == 72)
            old_cold = &rel;
        if (rel.offset == 88)
            new_cold = &rel;
    }
    REQUIRE(old_cold);
    REQUIRE(new_cold);
    CHECK(new_cold->symbol == cold);
    REQUIRE(old_cold->symbol->section);
    CHECK(old_cold->symbol->section->name == ".kpatch.strings");
    const auto &str = old_cold->symbol->section->data;
    REQUIRE(static_cast<size_t>(old_cold->addend) < str.size());
    CHECK(std::string(reinterpret_cast<const char *>(str.data()) + old_cold->addend) ==
          "fixture_cold.cold");
}

TEST_CASE("a renamed-suffix callee (.constprop) is referred to by its kernel name", "[diff][fixture]")
{
    REQUIRE_FIXTURES();
    FakeKernel k;
    auto r = fixtures::diff("constprop", with_kernel(k));
    REQUIRE(r.result.outcome == Outcome::Changed);
    CHECK(names(r.result.changed) == std::vector<std::string>{"fixture_use_scale"});
    bool found = false;
    for (auto &kr : r.result.klp)
        found |= kr.symbol.rfind("fixture_scale", 0) == 0;
    CHECK(found);
}

TEST_CASE("the manifest says what the run found", "[diff][fixture][json]")
{
    REQUIRE_FIXTURES();
    FakeKernel k;
    auto opts = with_kernel(k);
    auto r = fixtures::diff("newfunc", opts);
    auto j = nlohmann::json::parse(diff::manifest_json(r.result, opts, false));
    CHECK(j["outcome"] == "changed");
    CHECK(j["exit_code"] == 0);
    CHECK(j["changed_functions"][0]["name"] == "fixture_entry");
    CHECK(j["changed_functions"][0]["sympos"] == 0);
    CHECK(j["changed_functions"][0]["old_size"].get<uint64_t>() > 0);
    CHECK(j["new_functions"][0] == "fixture_new_helper");
    CHECK(j["klp_relocations"][0]["symbol"] == "fixture_helper");
    CHECK(j["special_entries"]["__mcount_loc"] == 2);
    auto refused = fixtures::diff("data_init", opts);
    auto jr = nlohmann::json::parse(diff::manifest_json(refused.result, opts, true));
    CHECK(jr["exit_code"] == 2);
    CHECK(jr["refusals"].size() == 1);
}

TEST_CASE("a position the kernel cannot give is an error naming the symbol", "[diff][fixture]")
{
    REQUIRE_FIXTURES();
    class NoKernel : public FakeKernel {
        Expected<unsigned long> position(std::string_view name, bool, const std::vector<std::string> &) const override
        {
            return Error{"`" + std::string(name) + "` is not in kallsyms"};
        }
    } k;
    auto orig = fixtures::load("orig", "newfunc");
    auto patched = fixtures::load("patched", "newfunc");
    auto res = diff::run_diff(*orig, *patched, with_kernel(k));
    REQUIRE(!res);
    CHECK_THAT(res.error().message, Catch::Contains("fixture_helper"));
}

TEST_CASE("objects from different source files are refused as input errors", "[diff][fixture][errors]")
{
    REQUIRE_FIXTURES();
    auto a = fixtures::load("orig", "changed");
    auto b = fixtures::load("patched", "newfunc");
    auto res = diff::run_diff(*a, *b, {});
    REQUIRE(!res);
    CHECK_THAT(res.error().message, Catch::Contains("different source files"));
}

TEST_CASE("a computed-goto label table is copied with its changed function", "[diff][fixture]")
{
    REQUIRE_FIXTURES();
    FakeKernel k;
    auto r = fixtures::diff("cgoto", with_kernel(k));
    REQUIRE(r.result.outcome == Outcome::Changed);
    CHECK(names(r.result.changed) == std::vector<std::string>{"fixture_cgoto"});
    auto &out = *r.result.output;
    const elf::Section *table = nullptr;
    for (auto &s : out.sections)
        if (s->name.rfind(".rodata.table", 0) == 0)
            table = s.get();
    REQUIRE(table);
    // Every entry points into the new function of the output, none into the kernel's.
    auto targets = relocation_targets(out, table->name);
    REQUIRE(targets.size() == 3);
    for (auto &t : targets)
        CHECK((t == "fixture_cgoto" || t == ".text.fixture_cgoto"));
    for (auto &kr : r.result.klp)
        CHECK(kr.symbol.rfind("table", 0) != 0);
}

TEST_CASE("a writable computed-goto table refuses the change, naming the function", "[diff][fixture]")
{
    REQUIRE_FIXTURES();
    FakeKernel k;
    auto r = fixtures::diff("cgoto_writable", with_kernel(k));
    REQUIRE(r.result.outcome == Outcome::Refused);
    REQUIRE(r.result.refusals.size() == 1);
    CHECK(r.result.refusals[0].find("fixture_cgoto_rw") != std::string::npos);
    CHECK(r.result.refusals[0].find("computed-goto") != std::string::npos);
}

TEST_CASE("printk index entries follow the function named in their record", "[diff][fixture][special]")
{
    REQUIRE_FIXTURES();
    FakeKernel k;
    auto r = fixtures::diff("printk_index", with_kernel(k));
    REQUIRE(r.result.outcome == Outcome::Changed);
    // The unchanged function's entry neither changes it nor comes along.
    CHECK(names(r.result.changed) == std::vector<std::string>{"fixture_pi_changed"});
    REQUIRE(r.result.special_entries.count(".printk_index"));
    CHECK(r.result.special_entries.at(".printk_index") == 1);
    auto &out = *r.result.output;
    auto targets = relocation_targets(out, ".printk_index");
    REQUIRE(targets.size() == 1);
    // The record is the patch's own copy, and it names the new format.
    const elf::Symbol *record = symbol(out, targets[0]);
    REQUIRE(record);
    CHECK(record->is_defined());
    for (auto &kr : r.result.klp)
        CHECK(kr.symbol.rfind("_entry", 0) != 0);
}
