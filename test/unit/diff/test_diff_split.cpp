// One function, several symbols: aliases (two names at one address) and cold parts (licence: GPL-2.0-only).
#include <algorithm>
#include <cstring>
#include <map>

#include <nlohmann/json.hpp>

#include "diff/kpatch_abi.hpp"
#include "diff/passes.hpp"
#include "fixtures.hpp"

using namespace kpatch;
using diff::Outcome;
using fixtures::symbol;

namespace {

// struct kpatch_funcs_entry (kmod/include/kpatch.h).
constexpr uint64_t entry_size = diff::abi::funcs_entry_size;
constexpr uint64_t old_name_field = diff::abi::OldName;

std::vector<std::string> names(const std::vector<diff::ChangedFunction> &v)
{
    std::vector<std::string> out;
    for (auto &c : v)
        out.push_back(c.name);
    return out;
}

std::vector<std::string> sorted(std::vector<std::string> v)
{
    std::sort(v.begin(), v.end());
    return v;
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
    // A static function with a global alias is replaced under the global name (unique
    // in kallsyms).
    const std::vector<std::string> expected{"fixture_SyS_thing", "fixture_alias_caller", "fixture_public"};
    auto changed = names(r.result.changed);
    std::sort(changed.begin(), changed.end());
    CHECK(changed == sorted(expected));
    std::map<std::string, std::vector<std::string>> aliases;
    for (auto &c : r.result.changed) {
        CHECK(c.old_name == c.name);
        aliases[c.name] = c.old_aliases;
    }
    CHECK(aliases["fixture_SyS_thing"] == std::vector<std::string>{"fixture_sys_thing"});
    CHECK(aliases["fixture_public"] == std::vector<std::string>{"fixture_local_impl"});
    CHECK(aliases["fixture_alias_caller"].empty());
    auto &out = *r.result.output;
    CHECK(out.find_section(".kpatch.funcs")->data.size() == 3 * entry_size);
    CHECK(sorted(replaced_names(out)) == sorted(expected));
    auto *pub = symbol(out, "fixture_public"), *impl = symbol(out, "fixture_local_impl");
    REQUIRE(pub);
    REQUIRE(impl);
    CHECK(pub->is_defined());
    CHECK(impl->is_defined());
    CHECK(pub->section == impl->section);
    // Its cold part, named after the static name, is the entry's cold part (the core's
    // stack check covers it) and travels with it.
    if (symbol(*r.patched, "fixture_local_impl.cold")) {
        auto it = std::find_if(r.result.changed.begin(), r.result.changed.end(),
                               [](const diff::ChangedFunction &c) { return c.name == "fixture_public"; });
        REQUIRE(it != r.result.changed.end());
        CHECK(it->old_cold == "fixture_local_impl.cold");
        CHECK(it->new_cold == "fixture_local_impl.cold");
        auto *cold = symbol(out, "fixture_local_impl.cold");
        REQUIRE(cold);
        CHECK(cold->is_defined());
    } else {
        WARN("the compiler made no .cold part for fixture_local_impl here");
    }

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
    REQUIRE(j["changed_functions"].size() == 3);
    bool listed = false;
    for (auto &f : j["changed_functions"])
        if (f["old_name"] == "fixture_SyS_thing") {
            listed = true;
            CHECK(f["old_aliases"] == nlohmann::json::array({"fixture_sys_thing"}));
        } else {
            CHECK(f["old_name"] != "fixture_sys_thing");
        }
    CHECK(listed);
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

TEST_CASE("two names of one kernel function that the patch makes two functions are refused",
          "[diff][fixture][alias]")
{
    REQUIRE_FIXTURES();
    auto r = fixtures::diff("alias_split");
    // Replacing fixture_split_b redirects its address, which is fixture_split_a's too:
    // callers of fixture_split_a would run fixture_split_b's new code.
    REQUIRE(r.result.outcome == Outcome::Refused);
    REQUIRE(r.result.refusals.size() == 1);
    CHECK_THAT(r.result.refusals[0], Catch::Contains("`fixture_split_b`") &&
                                         Catch::Contains("one function with `fixture_split_a`"));
    CHECK(!r.result.output);
}

TEST_CASE("a kernel function that becomes a second name of another is replaced by the shared code",
          "[diff][fixture][alias]")
{
    REQUIRE_FIXTURES();
    auto r = fixtures::diff("alias_join");
    INFO((r.result.refusals.empty() ? std::string() : r.result.refusals[0]));
    REQUIRE(r.result.outcome == Outcome::Changed);
    // fixture_join_b (x + 6 in the kernel) now names fixture_join_a's code (x + 5):
    // it is replaced; fixture_join_a, the same in both, is not.
    CHECK(names(r.result.changed) == std::vector<std::string>{"fixture_join_b"});
    REQUIRE(r.result.changed.size() == 1);
    CHECK(r.result.changed[0].old_aliases.empty());   // two functions in the kernel
    auto &out = *r.result.output;
    CHECK(replaced_names(out) == std::vector<std::string>{"fixture_join_b"});
    auto *b = symbol(out, "fixture_join_b");
    REQUIRE(b);
    CHECK(b->is_defined());
    CHECK(b->section->name == ".text.fixture_join_a");
    auto *funcs = out.find_section(".kpatch.funcs");
    REQUIRE(funcs->relocations);
    CHECK(target(out, ".kpatch.funcs", 0) == b);   // new_func: the shared code
}
