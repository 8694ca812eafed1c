// Issue 16, classes 3, 5 and 6: objects without DWARF, per-call-site data, and what a new
// function must not pull in (licence: GPL-2.0-only).
#include <algorithm>
#include <elf.h>

#include "fixtures.hpp"

using namespace kpatch;
using fixtures::relocation_targets;
using diff::Outcome;
using fixtures::symbol;

namespace {

std::vector<std::string> changed_names(const diff::DiffResult &r)
{
    std::vector<std::string> out;
    for (auto &c : r.changed)
        out.push_back(c.name);
    std::sort(out.begin(), out.end());
    return out;
}

bool contains(const std::vector<std::string> &v, const std::string &s)
{
    return std::find(v.begin(), v.end(), s) != v.end();
}

// The function symbols the output defines, sorted.
std::vector<std::string> defined_functions(const elf::Object &o)
{
    std::vector<std::string> out;
    for (auto &s : o.symbols)
        if (s->is_function() && s->is_defined())
            out.push_back(s->name);
    std::sort(out.begin(), out.end());
    return out;
}

// The symbol of the original's section `data` that text section `text` refers to first
// (a descriptor, a static local): the running kernel's copy the patch must keep using.
std::string orig_referent(const elf::Object &orig, const std::string &text, const std::string &data)
{
    auto *t = orig.find_section(text);
    REQUIRE(t);
    REQUIRE(t->relocations);
    for (auto &r : t->relocations->entries) {
        if (!r.symbol || !r.symbol->section || r.symbol->section->name != data)
            continue;
        int64_t at = static_cast<int64_t>(r.symbol->value) + r.addend;
        if (r.type == R_X86_64_PC32)
            at += 4;   // the field's distance to the end of the instruction
        for (auto &s : orig.symbols)
            if (s->is_object() && s->section == r.symbol->section && at >= static_cast<int64_t>(s->value) &&
                at < static_cast<int64_t>(s->value + s->size))
                return s->name;
    }
    FAIL("no reference from " << text << " into " << data);
    return {};
}

// Whether a klp relocation of output section `section` names kernel symbol `symbol`.
bool klp_refers(const diff::DiffResult &r, const std::string &section, const std::string &symbol)
{
    return std::any_of(r.klp.begin(), r.klp.end(),
                       [&](const diff::KlpReference &k) { return k.section == section && k.symbol == symbol; });
}

// Whether a relocation of section `text` of `o` points into section `data` of `o` itself.
bool refers_into(const elf::Object &o, const std::string &text, const std::string &data)
{
    auto *t = o.find_section(text);
    if (!t || !t->relocations)
        return false;
    return std::any_of(t->relocations->entries.begin(), t->relocations->entries.end(), [&](const elf::Relocation &r) {
        return r.symbol && r.symbol->section && r.symbol->section->name == data;
    });
}

// The output's defined data objects in section `sec`.
std::vector<std::string> defined_data(const elf::Object &o, const std::string &sec)
{
    std::vector<std::string> out;
    for (auto &s : o.symbols)
        if (s->is_object() && s->is_defined() && s->section && s->section->name == sec)
            out.push_back(s->name);
    return out;
}

} // namespace

TEST_CASE("no DWARF: moved lines in bug entries and known line arguments change nothing; other constants do",
          "[diff][fixture][lines][nodwarf]")
{
    REQUIRE_FIXTURES();
    auto r = fixtures::diff("lineshift_nodwarf");
    REQUIRE(r.orig->find_section(".debug_line") == nullptr);   // really stripped
    INFO((r.result.refusals.empty() ? std::string() : r.result.refusals[0]));
    REQUIRE(r.result.outcome == Outcome::Changed);
    // __LINE__ to an unknown function is a constant like any other: changed (safe), and
    // fixture_mixed's real change is seen although its __might_sleep line moved as well.
    CHECK(changed_names(r.result) == std::vector<std::string>{"fixture_mixed", "fixture_unknown"});
    for (const char *f : {"fixture_sleepy", "fixture_warn", "fixture_fs_error"})
        CHECK(contains(r.result.line_shift_only, f));
    auto &out = *r.result.output;
    CHECK(defined_functions(out) == std::vector<std::string>{"fixture_mixed", "fixture_unknown"});
    // No Module.symvers given: kernel functions are reached through klp relocations.
    CHECK(klp_refers(r.result, ".text.fixture_mixed", "__might_sleep"));
    CHECK(klp_refers(r.result, ".text.fixture_unknown", "fixture_report"));
    // Only the two replaced functions have .kpatch.funcs entries; no bug entry of
    // fixture_warn is carried.
    CHECK(out.find_section(".kpatch.funcs")->data.size() == 2 * 96);
    CHECK(r.result.special_entries.count("__bug_table") == 0);
}

// Class 5: per-call-site data carrying a line belongs to the function using it.
TEST_CASE("dynamic debug: a pr_debug() added above renumbers and moves descriptors; only its function changes",
          "[diff][fixture][callsite]")
{
    REQUIRE_FIXTURES();
    auto r = fixtures::diff("dyndbg_shift");
    INFO((r.result.refusals.empty() ? std::string() : r.result.refusals[0]));
    REQUIRE(r.result.outcome == Outcome::Changed);
    CHECK(changed_names(r.result) == std::vector<std::string>{"fixture_dbg_changed"});
    auto &out = *r.result.output;
    CHECK(defined_functions(out) == std::vector<std::string>{"fixture_dbg_changed"});
    // The pr_debug() it had keeps the kernel's descriptor (its `echo ... >control` state);
    // the one it gained is new and travels with it.
    std::string kept = orig_referent(*r.orig, ".text.fixture_dbg_changed", "__dyndbg");
    CHECK(klp_refers(r.result, ".text.fixture_dbg_changed", kept));
    CHECK(r.result.new_data.size() == 1);
    CHECK(defined_data(out, "__dyndbg").size() == 1);
    CHECK(klp_refers(r.result, ".text.fixture_dbg_changed", "__dynamic_pr_debug"));
    CHECK(refers_into(out, ".text.fixture_dbg_changed", "__dyndbg"));
}

TEST_CASE("dynamic debug, older layout (__verbose): a moved descriptor line is no changed data",
          "[diff][fixture][callsite]")
{
    REQUIRE_FIXTURES();
    auto r = fixtures::diff("verbose_old");
    INFO((r.result.refusals.empty() ? std::string() : r.result.refusals[0]));
    REQUIRE(r.result.outcome == Outcome::Changed);   // was exit 2: "changed its initial value"
    CHECK(r.result.refusals.empty());
    CHECK(changed_names(r.result) == std::vector<std::string>{"fixture_vdbg_changed"});
    auto &out = *r.result.output;
    CHECK(defined_functions(out) == std::vector<std::string>{"fixture_vdbg_changed"});
    std::string kept = orig_referent(*r.orig, ".text.fixture_vdbg_changed", "__verbose");
    CHECK(klp_refers(r.result, ".text.fixture_vdbg_changed", kept));
    CHECK(defined_data(out, "__verbose").size() == 1);
    CHECK(klp_refers(r.result, ".text.fixture_vdbg_changed", "fixture_dprintk"));
    CHECK(refers_into(out, ".text.fixture_vdbg_changed", "__verbose"));
}

// Class 6: a new function called from one changed function pulls in nothing else.
TEST_CASE("a new helper with a pr_debug(): only it and its caller go in; the caller's static local is the kernel's",
          "[diff][fixture][newfunc]")
{
    REQUIRE_FIXTURES();
    auto r = fixtures::diff("newfunc_static");
    REQUIRE(r.result.outcome == Outcome::Changed);
    CHECK(changed_names(r.result) == std::vector<std::string>{"fixture_counted"});
    CHECK(r.result.new_functions == std::vector<std::string>{"fixture_added"});
    auto &out = *r.result.output;
    CHECK(defined_functions(out) == std::vector<std::string>{"fixture_added", "fixture_counted"});
    CHECK(klp_refers(r.result, ".text.fixture_counted", orig_referent(*r.orig, ".text.fixture_counted", "__dyndbg")));
    std::string calls;
    for (auto &s : r.orig->symbols)
        if (s->name.rfind("calls.", 0) == 0)
            calls = s->name;
    CHECK(klp_refers(r.result, ".text.fixture_counted", calls));
    // The helper's descriptor is its own (copied), never another function's in the kernel.
    for (auto &k : r.result.klp)
        CHECK_FALSE((k.section == ".text.fixture_added" && k.symbol.rfind("__UNIQUE_ID_ddebug", 0) == 0));
    CHECK(defined_data(out, "__dyndbg").size() == 1);
    CHECK(refers_into(out, ".text.fixture_added", "__dyndbg"));
    CHECK(contains(relocation_targets(out, ".text.fixture_counted"), "fixture_added"));
}

TEST_CASE("a static local a new specialised helper names is still the kernel's, not a copy", "[diff][fixture][newfunc]")
{
    REQUIRE_FIXTURES();
    auto r = fixtures::diff("static_local_clone");
    REQUIRE(r.result.outcome == Outcome::Changed);
    CHECK(changed_names(r.result) == std::vector<std::string>{"fixture_step"});
    REQUIRE(r.result.new_functions.size() == 1);
    std::string helper = r.result.new_functions[0];
    CHECK(helper.rfind("fixture_bump", 0) == 0);
    CHECK(r.result.new_data.empty());
    auto &out = *r.result.output;
    CHECK(defined_functions(out) == std::vector<std::string>{helper, "fixture_step"});
    // Both the changed function and the helper reach fixture_step's `total` in the kernel.
    std::string total;
    for (auto &sec : r.orig->sections)
        if (sec->name.rfind(".bss.total.", 0) == 0) {
            auto *t = r.orig->find_section(".text.fixture_step");
            for (auto &rel : t->relocations->entries)
                if (rel.symbol && rel.symbol->section == sec.get())
                    total = orig_referent(*r.orig, ".text.fixture_step", sec->name);
        }
    REQUIRE(!total.empty());
    CHECK(klp_refers(r.result, ".text." + helper, total));
    CHECK(klp_refers(r.result, ".text.fixture_step", total));
    bool any_total_defined = false;
    for (auto &s : out.symbols)
        any_total_defined |= s->is_defined() && s->name.rfind("total", 0) == 0;
    CHECK_FALSE(any_total_defined);
}
