// Special-section entry sizes of other kernel versions (issue 16, class 1), on fixtures
// that lay the tables out as those kernels do (licence: GPL-2.0-only).
//
// Each fixture failed with the differ before entry_size.cpp ("not a whole number of
// N-byte entries", exit 1); the ones whose last entry lacks its tail padding
// (esize_bug_unpadded, esize_env, esize_untouched) failed even with the right
// *_STRUCT_SIZE in the environment.
#include <algorithm>
#include <cstring>
#include <elf.h>
#include <filesystem>
#include <fstream>
#include <unistd.h>
#include <map>
#include <set>

#include "fixtures.hpp"

using namespace kpatch;

namespace {

std::vector<std::string> changed_names(const diff::DiffResult &r)
{
    std::vector<std::string> out;
    for (auto &c : r.changed)
        out.push_back(c.name);
    return out;
}

bool contains(const std::string &text, const std::string &part) { return text.find(part) != std::string::npos; }

// "offset:symbol+addend" for each relocation of output section `sec`.
std::vector<std::string> relocations(const elf::Object &o, const std::string &sec)
{
    std::vector<std::string> out;
    const elf::Section *s = o.find_section(sec);
    if (s && s->relocations)
        for (auto &r : s->relocations->entries)
            out.push_back(std::to_string(r.offset) + ":" +
                          (!r.symbol                         ? std::string("-")
                           : r.symbol->is_section_symbol() ? r.symbol->section->name
                                                           : r.symbol->name) +
                          "+" + std::to_string(r.addend));
    return out;
}

uint16_t u16_at(const elf::Section &s, size_t at)
{
    uint16_t v = 0;
    REQUIRE(at + 2 <= s.data.size());
    std::memcpy(&v, s.data.data() + at, 2);
    return v;
}

} // namespace

TEST_CASE("a __bug_table whose last 16-byte entry has no tail padding is cut by its relocation stride",
          "[diff][entry-size]")
{
    REQUIRE_FIXTURES();
    for (bool from_env : {false, true}) {
        INFO("BUG_STRUCT_SIZE=16 given: " << from_env);
        diff::Options opt;
        if (from_env)
            opt.entry_sizes["__bug_table"] = 16;
        auto r = fixtures::diff("esize_bug_unpadded", opt);
        REQUIRE(r.orig->find_section("__bug_table")->size() == 42);   // 16 + 16 + 10
        REQUIRE(r.result.outcome == diff::Outcome::Changed);
        CHECK(changed_names(r.result) == std::vector<std::string>{"esize_bug_c"});
        CHECK(contains(r.result.entry_sizes.at("__bug_table"),
                       from_env ? "16 bytes, from BUG_STRUCT_SIZE in the environment"
                                : "16 bytes, from the stride of its relocations"));
        // The kept entry is the short last one, padded to a whole entry in the output.
        CHECK(r.result.special_entries.at("__bug_table") == 1);
        const elf::Object &out = *r.result.output;
        const elf::Section *bug = out.find_section("__bug_table");
        REQUIRE(bug);
        CHECK(bug->size() == 16);
        CHECK(u16_at(*bug, 8) == 30);   // esize_bug_c's line
        auto rel = relocations(out, "__bug_table");
        REQUIRE(rel.size() == 2);
        CHECK(rel[0] == "0:esize_bug_c+5");   // the nop after the 5-byte __fentry__ call
        CHECK(contains(rel[1], "4:.rodata.str1.1+"));
        CHECK_FALSE(fixtures::symbol(out, "esize_bug_a"));
        CHECK_FALSE(fixtures::symbol(out, "esize_bug_b"));
    }
}

TEST_CASE("an .altinstructions of 13-byte entries is cut by the object's DWARF when its relocations show no stride",
          "[diff][entry-size]")
{
    REQUIRE_FIXTURES();
    auto r = fixtures::diff("esize_alt_dwarf");
    REQUIRE(r.result.outcome == diff::Outcome::Changed);
    CHECK(changed_names(r.result) == std::vector<std::string>{"esize_alt_a"});
    CHECK(r.result.entry_sizes.at(".altinstructions") ==
          "13 bytes, from the object's DWARF (struct alt_instr)");
    const elf::Object &out = *r.result.output;
    const elf::Section *alt = out.find_section(".altinstructions");
    REQUIRE(alt);
    CHECK(alt->size() == 13);
    CHECK(u16_at(*alt, 8) == 0x73);   // esize_alt_a's cpuid, not a field of its neighbour
    CHECK(relocations(out, ".altinstructions") ==
          std::vector<std::string>{"0:esize_alt_a+5", "4:.altinstr_replacement+0"});
    CHECK(out.find_section(".altinstr_replacement"));

    // The environment comes first, even against DWARF: a wrong size stops the patch,
    // naming the section, the function and the variable.
    diff::Options wrong;
    wrong.entry_sizes[".altinstructions"] = 12;
    auto w = fixtures::diff("esize_alt_dwarf", wrong);
    REQUIRE(w.result.outcome == diff::Outcome::Refused);
    REQUIRE(w.result.refusals.size() == 1);
    const std::string &why = w.result.refusals[0];
    INFO(why);
    CHECK(contains(why, "section .altinstructions has entries for function `esize_alt_a` that cannot be delimited"));
    CHECK(contains(why, "12 bytes (from ALT_STRUCT_SIZE in the environment)"));
    CHECK(contains(why, "26 bytes are not a whole number of 12-byte entries"));
    CHECK(contains(why, "correct ALT_STRUCT_SIZE"));
    CHECK_FALSE(w.result.output);
}

TEST_CASE("an .altinstructions of 13-byte entries without the struct in DWARF is cut by its relocation stride",
          "[diff][entry-size]")
{
    REQUIRE_FIXTURES();
    auto r = fixtures::diff("esize_alt_stride");
    REQUIRE(r.orig->find_section(".altinstructions")->size() == 39);
    REQUIRE(r.result.outcome == diff::Outcome::Changed);
    CHECK(changed_names(r.result) == std::vector<std::string>{"esize_stride_b"});
    CHECK(r.result.entry_sizes.at(".altinstructions") == "13 bytes, from the stride of its relocations");
    const elf::Object &out = *r.result.output;
    const elf::Section *alt = out.find_section(".altinstructions");
    REQUIRE(alt);
    CHECK(alt->size() == 13);
    CHECK(u16_at(*alt, 8) == 0x74);
    CHECK(relocations(out, ".altinstructions") ==
          std::vector<std::string>{"0:esize_stride_b+5", "4:.altinstr_replacement+3"});
    CHECK(r.result.special_entries.at(".altinstructions") == 1);
}

TEST_CASE("a table only the environment can cut: refused, naming section and why, without it; kept with it",
          "[diff][entry-size]")
{
    REQUIRE_FIXTURES();
    auto r = fixtures::diff("esize_env");
    REQUIRE(r.result.outcome == diff::Outcome::Refused);
    REQUIRE(r.result.refusals.size() == 1);
    const std::string &why = r.result.refusals[0];
    INFO(why);
    CHECK(contains(why, "section __bug_table has entries for function `esize_env_a` that cannot be delimited"));
    CHECK(contains(why, "the object's DWARF has no struct bug_entry and its relocations no regular stride"));
    CHECK(contains(why, "the last 2 bytes are not an entry short of only its tail padding (the section is aligned to 16)"));
    CHECK(contains(why, "give the entry size in the environment (BUG_STRUCT_SIZE)"));
    CHECK(changed_names(r.result) == std::vector<std::string>{"esize_env_a"});

    diff::Options opt;
    opt.entry_sizes["__bug_table"] = 16;
    auto e = fixtures::diff("esize_env", opt);
    REQUIRE(e.result.outcome == diff::Outcome::Changed);
    const elf::Section *bug = e.result.output->find_section("__bug_table");
    REQUIRE(bug);
    CHECK(bug->size() == 16);
    CHECK(u16_at(*bug, 8) == 10);
    auto rel = relocations(*e.result.output, "__bug_table");
    REQUIRE(rel.size() == 2);
    CHECK(rel[0] == "0:esize_env_a+5");
}

TEST_CASE("a table no size fits does not stop a patch whose functions have no entries there",
          "[diff][entry-size]")
{
    REQUIRE_FIXTURES();
    auto r = fixtures::diff("esize_untouched");
    REQUIRE(r.result.outcome == diff::Outcome::Changed);
    CHECK(changed_names(r.result) == std::vector<std::string>{"esize_untouched_c"});
    CHECK(r.result.refusals.empty());
    CHECK(r.result.entry_sizes.at("__bug_table").rfind("not cut into entries: ", 0) == 0);
    REQUIRE(r.result.warnings.size() >= 1);
    CHECK(std::any_of(r.result.warnings.begin(), r.result.warnings.end(), [](const std::string &w) {
        return w.rfind("section __bug_table is left out of the patch: no copied function has entries there", 0) == 0;
    }));
    const elf::Object &out = *r.result.output;
    CHECK_FALSE(out.find_section("__bug_table"));
    CHECK(r.result.special_entries.count("__bug_table") == 0);
    CHECK(fixtures::symbol(out, "esize_untouched_c"));
    CHECK_FALSE(fixtures::symbol(out, "esize_untouched_a"));
}

TEST_CASE("on objects built with the 6.1 kernel's flags every special section is cut at its 6.1 size",
          "[diff][entry-size]")
{
    REQUIRE_FIXTURES();
    // The relocation stride must not find a different size in real tables (a bug table
    // entry's file field, a jump entry's key, ORC's parallel table).
    std::map<std::string, int> by_relocations;
    const std::map<std::string, unsigned> v61 = {
        {"__bug_table", 12}, {"__ex_table", 12}, {"__jump_table", 16}, {".altinstructions", 12},
        {".parainstructions", 16}, {".static_call_sites", 8}, {".printk_index", 8},
        {"__mcount_loc", 8}, {".orc_unwind_ip", 4}, {".orc_unwind", 6}, {".return_sites", 4},
        {".retpoline_sites", 4}, {".smp_locks", 4}, {".call_sites", 4}, {".ibt_endbr_seal", 4}};
    std::set<std::string> seen;
    for (const char *name : {"once", "jump_label", "alternative", "extable", "printk_index", "changed"}) {
        auto r = fixtures::diff(name);
        for (auto &[section, how] : r.result.entry_sizes) {
            INFO(name << ": " << section << ": " << how);
            REQUIRE(v61.count(section));
            CHECK(how.rfind(std::to_string(v61.at(section)) + " bytes, from ", 0) == 0);
            // objtool gives ORC and site lists an sh_entsize; a table of one entry shows
            // no stride and takes DWARF's size; a stride other than 6.1's is a misreading.
            CHECK_FALSE(contains(how, "the stride of its relocations"));
            seen.insert(section);
            by_relocations[section] += contains(how, "which its relocations show");
        }
    }
    for (const char *s : {"__bug_table", "__jump_table", ".altinstructions", "__ex_table", ".orc_unwind"}) {
        INFO(s);
        CHECK(seen.count(s));
    }
    // Tables of several entries show the 6.1 size in their relocations (no DWARF needed).
    for (const char *s : {"__bug_table", "__mcount_loc"}) {
        INFO(s);
        CHECK(by_relocations[s] > 0);
    }
}

TEST_CASE("a __jump_table of 24-byte absolute entries is cut at 24, not at its 8-byte fields",
          "[diff][entry-size]")
{
    REQUIRE_FIXTURES();
    auto r = fixtures::diff("esize_jump_abs");
    REQUIRE(r.orig->find_section("__jump_table")->size() == 72);
    REQUIRE(r.result.outcome == diff::Outcome::Changed);
    CHECK(changed_names(r.result) == std::vector<std::string>{"esize_jump_b"});
    CHECK(r.result.entry_sizes.at("__jump_table") == "24 bytes, from the stride of its relocations");
    CHECK(r.result.special_entries.at("__jump_table") == 1);
    const elf::Object &out = *r.result.output;
    CHECK(out.find_section("__jump_table")->size() == 24);
    auto rel = relocations(out, "__jump_table");
    REQUIRE(rel.size() == 3);
    CHECK(rel[0] == "0:esize_jump_b+5");    // the 5-byte nop
    CHECK(rel[1] == "8:esize_jump_b+10");   // the jump target after it
    CHECK(contains(rel[2], "16:"));
    CHECK(contains(rel[2], "esize_key"));   // the key: the kernel's, whatever way it is reached
}

TEST_CASE("the kernel tree's sizes cut a table the object alone cannot, and rank below the environment",
          "[diff][entry-size]")
{
    REQUIRE_FIXTURES();
    // esize_env: no DWARF struct, no regular stride (see above): the tree's size cuts it.
    diff::Options tree;
    tree.kernel_entry_sizes["__bug_table"] = 16;
    auto t = fixtures::diff("esize_env", tree);
    REQUIRE(t.result.outcome == diff::Outcome::Changed);
    CHECK(t.result.entry_sizes.at("__bug_table") ==
          "16 bytes, from the kernel tree's headers (struct bug_entry)");
    const elf::Section *bug = t.result.output->find_section("__bug_table");
    REQUIRE(bug);
    CHECK(bug->size() == 16);
    CHECK(u16_at(*bug, 8) == 10);
    auto rel = relocations(*t.result.output, "__bug_table");
    REQUIRE(rel.size() == 2);
    CHECK(rel[0] == "0:esize_env_a+5");

    // A wrong tree size is heard about like a wrong override, naming its source.
    diff::Options wrong_tree;
    wrong_tree.kernel_entry_sizes["__bug_table"] = 12;
    auto w = fixtures::diff("esize_env", wrong_tree);
    REQUIRE(w.result.outcome == diff::Outcome::Refused);
    REQUIRE(w.result.refusals.size() == 1);
    INFO(w.result.refusals[0]);
    CHECK(contains(w.result.refusals[0], "12 bytes (from the kernel tree's headers (struct bug_entry))"));

    // The environment overrides the tree.
    diff::Options both = wrong_tree;
    both.entry_sizes["__bug_table"] = 16;
    auto b = fixtures::diff("esize_env", both);
    REQUIRE(b.result.outcome == diff::Outcome::Changed);
    CHECK(b.result.entry_sizes.at("__bug_table") == "16 bytes, from BUG_STRUCT_SIZE in the environment");
}

TEST_CASE("the kernel tree's size ranks above the object's DWARF", "[diff][entry-size]")
{
    REQUIRE_FIXTURES();
    diff::Options tree;
    tree.kernel_entry_sizes[".altinstructions"] = 13;
    auto r = fixtures::diff("esize_alt_dwarf", tree);
    REQUIRE(r.result.outcome == diff::Outcome::Changed);
    CHECK(r.result.entry_sizes.at(".altinstructions") ==
          "13 bytes, from the kernel tree's headers (struct alt_instr)");
    CHECK(relocations(*r.result.output, ".altinstructions") ==
          std::vector<std::string>{"0:esize_alt_a+5", "4:.altinstr_replacement+0"});
}

TEST_CASE("an --entry-sizes file is read, and a wrong one is an error naming file and member",
          "[diff][entry-size]")
{
    auto dir = std::filesystem::temp_directory_path() / ("kpatch-esize-" + std::to_string(getpid()));
    std::filesystem::create_directories(dir);
    auto write = [&](const std::string &name, const std::string &text) {
        std::ofstream(dir / name) << text;
        return (dir / name).string();
    };
    auto good = diff::read_entry_sizes(write("good.json", R"({"__bug_table": 12, ".orc_unwind": 6})"));
    REQUIRE(good);
    CHECK(*good == diff::EntrySizes{{"__bug_table", 12}, {".orc_unwind", 6}});

    struct Bad { const char *text, *says; };
    for (auto [text, says] : {Bad{R"({"__bug_table": "12"})", R"("__bug_table" is "12", not a number)"},
                              Bad{R"({"__bug_table": -1})", "is -1, not a number"},
                              Bad{R"({"__bug_table": 0})", "is 0, not a number"},
                              Bad{R"({"__bug_table": 1.5})", "is 1.5, not a number"},
                              Bad{R"({"__bug_table": 70000})", "is 70000, not a number"},
                              Bad{R"([12])", "not a JSON object of entry sizes"},
                              Bad{"{\"__bug_table\": 12", "not a JSON object of entry sizes"}}) {
        std::string path = write("bad.json", text);
        auto r = diff::read_entry_sizes(path);
        INFO(text);
        REQUIRE_FALSE(r);
        CHECK(contains(r.error().message, path));
        CHECK(contains(r.error().message, says));
    }
    auto missing = diff::read_entry_sizes((dir / "none.json").string());
    REQUIRE_FALSE(missing);
    CHECK(contains(missing.error().message, "cannot read the entry sizes in " + (dir / "none.json").string()));
    std::filesystem::remove_all(dir);
}
