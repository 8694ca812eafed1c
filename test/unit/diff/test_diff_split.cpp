// One function, several symbols: aliases (two names at one address) and cold parts (licence: GPL-2.0-only).
#include <algorithm>
#include <cstring>

#include <nlohmann/json.hpp>

#include "diff/passes.hpp"
#include "fixtures.hpp"

using namespace kpatch;
using diff::Outcome;
using fixtures::symbol;

namespace {

constexpr uint64_t entry_size = 96;   // struct kpatch_funcs_entry
constexpr uint64_t old_name_field = 8;

std::vector<std::string> names(const std::vector<diff::ChangedFunction> &v)
{
    std::vector<std::string> out;
    for (auto &c : v)
        out.push_back(c.name);
    return out;
}

// The old_name strings of the output's .kpatch.funcs entries, in entry order.
std::vector<std::string> replaced_names(const elf::Object &out)
{
    std::vector<std::string> result;
    auto *funcs = out.find_section(".kpatch.funcs");
    if (!funcs || !funcs->relocations)
        return result;
    std::vector<std::pair<uint64_t, std::string>> at;
    for (auto &r : funcs->relocations->entries)
        if (r.offset % entry_size == old_name_field && r.symbol && r.symbol->section) {
            const auto &str = r.symbol->section->data;
            REQUIRE(static_cast<size_t>(r.addend) < str.size());
            at.emplace_back(r.offset, reinterpret_cast<const char *>(str.data()) + r.addend);
        }
    std::sort(at.begin(), at.end());
    for (auto &[offset, name] : at)
        result.push_back(name);
    return result;
}

// The symbol of the relocation at `offset` of section `sec`.
const elf::Symbol *target(const elf::Object &o, const std::string &sec, uint64_t offset)
{
    auto *s = o.find_section(sec);
    REQUIRE(s);
    REQUIRE(s->relocations);
    for (auto &r : s->relocations->entries)
        if (r.offset == offset)
            return r.symbol;
    return nullptr;
}

// The relocation of `sec` to the symbol called `name`.
const elf::Relocation *relocation_to(const elf::Object &o, const std::string &sec, const std::string &name)
{
    auto *s = o.find_section(sec);
    if (!s || !s->relocations)
        return nullptr;
    for (auto &r : s->relocations->entries)
        if (r.symbol && r.symbol->name == name)
            return &r;
    return nullptr;
}

} // namespace

TEST_CASE("two names at one address are one function, replaced once under its global name",
          "[diff][fixture][alias]")
{
    REQUIRE_FIXTURES();
    diff::Options opts;
    opts.object_path = "kernel/alias.o";
    auto r = fixtures::diff("alias", opts);
    INFO((r.result.refusals.empty() ? std::string() : r.result.refusals[0]));
    REQUIRE(r.result.outcome == Outcome::Changed);
    // fixture_SyS_thing and its alias fixture_sys_thing: one changed function, not two,
    // and not "a function that shares its section with other functions".
    CHECK(names(r.result.changed) == std::vector<std::string>{"fixture_SyS_thing", "fixture_alias_caller"});
    REQUIRE(r.result.changed.size() == 2);
    CHECK(r.result.changed[0].old_name == "fixture_SyS_thing");
    CHECK(r.result.changed[0].old_aliases == std::vector<std::string>{"fixture_sys_thing"});
    CHECK(r.result.changed[1].old_aliases.empty());
    auto &out = *r.result.output;
    CHECK(out.find_section(".kpatch.funcs")->data.size() == 2 * entry_size);
    CHECK(replaced_names(out) == std::vector<std::string>{"fixture_SyS_thing", "fixture_alias_caller"});

    // Both names are defined in the output, at the one copy.
    auto *canon = symbol(out, "fixture_SyS_thing"), *alias = symbol(out, "fixture_sys_thing");
    REQUIRE(canon);
    REQUIRE(alias);
    CHECK(canon->is_defined());
    CHECK(alias->is_defined());
    CHECK(canon->section == alias->section);
    CHECK(canon->value == alias->value);
    CHECK(canon->section->name == ".text.fixture_SyS_thing");
    // The caller's call through the second name reaches the new code in the patch ...
    auto *to_changed = relocation_to(out, ".text.fixture_alias_caller", "fixture_sys_thing");
    REQUIRE(to_changed);
    CHECK(to_changed->symbol == alias);
    // ... and its call to the unchanged alias group reaches the kernel's symbol by the
    // name it used, which the output does not define.
    CHECK(!symbol(out, "fixture_SyS_other"));
    CHECK(!symbol(out, "fixture_sys_other"));
    auto *to_kernel = relocation_to(out, ".text.fixture_alias_caller", "fixture_sys_other");
    CHECK(!to_kernel);
    auto *klp = relocation_to(out, ".text.fixture_alias_caller",
                              diff::klp_symbol_name("vmlinux", "fixture_sys_other", 0));
    REQUIRE(klp);
    CHECK(!klp->symbol->is_defined());
    CHECK(std::any_of(r.result.klp.begin(), r.result.klp.end(), [](const diff::KlpReference &k) {
        return k.section == ".text.fixture_alias_caller" && k.symbol == "fixture_sys_other";
    }));

    auto j = nlohmann::json::parse(diff::manifest_json(r.result, opts, false));
    REQUIRE(j["changed_functions"].size() == 2);
    CHECK(j["changed_functions"][0]["old_name"] == "fixture_SyS_thing");
    CHECK(j["changed_functions"][0]["old_aliases"] == nlohmann::json::array({"fixture_sys_thing"}));
    CHECK(j["refusals"].empty());
}

TEST_CASE("a change to the cold part alone replaces its parent", "[diff][fixture][cold]")
{
    REQUIRE_FIXTURES();
    auto r = fixtures::diff("cold_only");
    if (!symbol(*r.patched, "fixture_cold_only.cold")) {
        WARN("the compiler made no .cold part here");
        return;
    }
    REQUIRE(r.result.outcome == Outcome::Changed);
    // Only the message of the unlikely branch changed: the parent's own bytes and
    // relocations are the same, but it is the entry point, so it is what is replaced.
    CHECK(names(r.result.changed) == std::vector<std::string>{"fixture_cold_only"});
    REQUIRE(r.result.changed.size() == 1);
    CHECK(r.result.changed[0].old_cold == "fixture_cold_only.cold");
    CHECK(r.result.changed[0].new_cold == "fixture_cold_only.cold");
    auto &out = *r.result.output;
    CHECK(replaced_names(out) == std::vector<std::string>{"fixture_cold_only"});
    auto *parent = symbol(out, "fixture_cold_only"), *cold = symbol(out, "fixture_cold_only.cold");
    REQUIRE(parent);
    REQUIRE(cold);
    CHECK(parent->is_defined());
    CHECK(cold->is_defined());
    // The copied parent jumps to the copied cold part, which uses the new string.
    auto *jump = relocation_to(out, ".text.fixture_cold_only", "fixture_cold_only.cold");
    REQUIRE(jump);
    CHECK(jump->symbol == cold);
    bool new_text = false;
    for (auto &s : out.sections)
        if (s->name.find("str") != std::string::npos && !s->data.empty())
            new_text |= std::search(s->data.begin(), s->data.end(), std::begin("below zero"),
                                    std::end("below zero") - 1) != s->data.end();
    CHECK(new_text);
}

TEST_CASE("a GCC 8 style numbered cold part (foo.cold.1) that alone changed replaces its parent",
          "[diff][fixture][cold]")
{
    REQUIRE_FIXTURES();
    auto r = fixtures::diff("cold_numbered");
    REQUIRE(r.result.outcome == Outcome::Changed);
    CHECK(names(r.result.changed) == std::vector<std::string>{"fixture_numbered"});
    REQUIRE(r.result.changed.size() == 1);
    CHECK(r.result.changed[0].old_cold == "fixture_numbered.cold.1");
    CHECK(r.result.changed[0].new_cold == "fixture_numbered.cold.1");
    auto &out = *r.result.output;
    // One entry, for the parent: the cold part is no entry point of its own.
    CHECK(out.find_section(".kpatch.funcs")->data.size() == entry_size);
    CHECK(replaced_names(out) == std::vector<std::string>{"fixture_numbered"});
    auto *parent = symbol(out, "fixture_numbered"), *cold = symbol(out, "fixture_numbered.cold.1");
    REQUIRE(parent);
    REQUIRE(cold);
    CHECK(parent->is_defined());
    CHECK(cold->is_defined());
    // The parent's jump reaches the new cold part, and the cold part's jump back lands
    // in the new parent, never in the kernel's old one.
    CHECK(target(out, ".text.fixture_numbered", 4) == cold);
    CHECK(target(out, ".text.unlikely.fixture_numbered", 6) == parent);
    CHECK(!symbol(out, diff::klp_symbol_name("vmlinux", "fixture_numbered", 0)));
}
