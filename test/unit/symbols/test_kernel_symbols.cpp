// Tests of KernelSymbols: parsing each source form and choosing a duplicated symbol's
// position (licence: GPL-2.0-only).
#include <catch2/catch.hpp>
#include "skip.hpp"

#include <cstdlib>
#include <unistd.h>
#include <kpatch/symbols/kernel_symbols.hpp>

using namespace kpatch::symbols;

namespace {

// Two objects both define a static `s_show`; the first also has `show_a`, `open_a`, the
// second `show_b`, `open_b`. A module symbol of the same name must not count.
const char *kTable =
    "ffffffff81000000 T _stext\n"
    "ffffffff81001000 t open_a\n"
    "ffffffff81001100 t s_show\n"
    "ffffffff81001200 t show_a\n"
    "ffffffff81002000 T unrelated\n"
    "ffffffff81003000 t show_b\n"
    "ffffffff81003100 t s_show\n"
    "ffffffff81003200 t open_b\n"
    "ffffffff81004000 d buf.0\n"
    "ffffffffc0001000 t s_show\t[some_module]\n";

KernelSymbols table()
{
    auto t = KernelSymbols::parse_kallsyms(kTable, "test-kallsyms");
    REQUIRE(t);
    return std::move(t).value();
}

} // namespace

TEST_CASE("kallsyms: vmlinux symbols are read in order, module symbols skipped", "[kallsyms]")
{
    KernelSymbols t = table();
    CHECK(t.kind() == SourceKind::Kallsyms);
    CHECK(t.symbols().size() == 9);
    CHECK(t.count("s_show") == 2);
    CHECK(t.is_unique("unrelated"));
    CHECK_FALSE(t.contains("missing"));
    CHECK(t.symbols()[1].is_local());
    CHECK(t.symbols()[1].is_text());
    CHECK_FALSE(t.symbols()[0].is_local());
}

TEST_CASE("kallsyms: a malformed line is an error naming the line", "[kallsyms]")
{
    auto t = KernelSymbols::parse_kallsyms("ffffffff81000000 T ok\nthis is not kallsyms\n", "k");
    REQUIRE_FALSE(t);
    CHECK_THAT(t.error().message, Catch::Contains("k:2"));
}

TEST_CASE("kallsyms: an empty table is an error", "[kallsyms]")
{
    auto t = KernelSymbols::parse_kallsyms("ffffffffc0001000 t x\t[mod]\n", "k");
    REQUIRE_FALSE(t);
    CHECK_THAT(t.error().message, Catch::Contains("no vmlinux symbols"));
}

TEST_CASE("position: a unique name is position 0", "[position]")
{
    auto pos = table().position("unrelated", {"unrelated"});
    REQUIRE(pos);
    CHECK(*pos == 0);
}

TEST_CASE("position: the copy surrounded by the object's own symbols is chosen", "[position]")
{
    KernelSymbols t = table();
    auto first = t.position("s_show", {"open_a", "s_show", "show_a"}, "a.o");
    REQUIRE(first);
    CHECK(*first == 1);
    auto second = t.position("s_show", {"show_b", "s_show", "open_b", "other"}, "b.o");
    REQUIRE(second);
    CHECK(*second == 2);
}

TEST_CASE("position: equally plausible copies are refused, not guessed", "[position]")
{
    auto pos = table().position("s_show", {"s_show", "nothing_nearby"}, "c.o");
    REQUIRE_FALSE(pos);
    CHECK_THAT(pos.error().message, Catch::Contains("cannot tell which of the 2"));
    CHECK_THAT(pos.error().message, Catch::Contains("c.o"));
}

TEST_CASE("position: an absent name is an error", "[position]")
{
    auto pos = table().position("no_such_fn", {"no_such_fn"});
    REQUIRE_FALSE(pos);
    CHECK_THAT(pos.error().message, Catch::Contains("not in the kernel's symbol table"));
}

TEST_CASE("resolve_position: without a table a local needs --kallsyms or --vmlinux",
          "[position]")
{
    auto local = resolve_position(nullptr, "s_show", true, {"s_show"}, "fs/proc/x.o");
    REQUIRE_FALSE(local);
    CHECK_THAT(local.error().message, Catch::Contains("--kallsyms"));
    CHECK_THAT(local.error().message, Catch::Contains("--vmlinux"));
    auto global = resolve_position(nullptr, "vfs_read", false, {"vfs_read"});
    REQUIRE(global);
    CHECK(*global == 0);
    KernelSymbols t = table();
    auto with = resolve_position(&t, "s_show", true, {"show_b", "s_show"});
    REQUIRE(with);
    CHECK(*with == 2);
}

TEST_CASE("readelf: the .symtab block of `readelf -s --wide` is read, sorted by address",
          "[readelf]")
{
    const char *text =
        "\n"
        "Symbol table '.symtab' contains 6 entries:\n"
        "   Num:    Value          Size Type    Bind   Vis      Ndx Name\n"
        "     0: 0000000000000000     0 NOTYPE  LOCAL  DEFAULT  UND \n"
        "     1: 0000000000000000     0 FILE    LOCAL  DEFAULT  ABS a.c\n"
        "     2: ffffffff81001100    10 FUNC    LOCAL  DEFAULT    1 s_show\n"
        "     3: ffffffff81000000     0 SECTION LOCAL  DEFAULT    1 .text\n"
        "     4: ffffffff81001000    10 FUNC    GLOBAL DEFAULT    1 first\n"
        "     5: 0000000000000000     0 NOTYPE  GLOBAL DEFAULT  UND printk\n";
    auto t = KernelSymbols::parse_readelf(text, "re");
    REQUIRE(t);
    REQUIRE(t->symbols().size() == 2);
    CHECK(t->symbols()[0].name == "first");
    CHECK(t->symbols()[0].type == 'T');
    CHECK(t->symbols()[1].name == "s_show");
    CHECK(t->symbols()[1].type == 't');
}

TEST_CASE("readelf: text without a symbol table is an error", "[readelf]")
{
    auto t = KernelSymbols::parse_readelf("hello\n", "re");
    REQUIRE_FALSE(t);
    CHECK_THAT(t.error().message, Catch::Contains("readelf -s --wide"));
}

TEST_CASE("vmlinux: an ELF symbol table is read through libelf", "[vmlinux]")
{
    const char *fixture = std::getenv("KPATCH_TEST_FIXTURE_O");
    REQUIRE(fixture);
    auto t = KernelSymbols::load(fixture);
    REQUIRE(t);
    CHECK(t->kind() == SourceKind::Vmlinux);
    REQUIRE(t->contains("fixture_entry"));
    const Symbol &entry = t->symbols()[t->occurrences("fixture_entry").front()];
    CHECK(entry.type == 'T');
    REQUIRE(t->contains("banner"));
    CHECK(t->symbols()[t->occurrences("banner").front()].type == 'r');
    CHECK(t->contains("counter"));
}

TEST_CASE("load: a missing file is an error naming it", "[load]")
{
    auto t = KernelSymbols::load("/nonexistent/kallsyms");
    REQUIRE_FALSE(t);
    CHECK_THAT(t.error().message, Catch::Contains("/nonexistent/kallsyms"));
}

TEST_CASE("module: a .ko's symbols as the 6.1 loader keeps them, init code left out", "[module][real]")
{
    const char *ko = std::getenv("KPATCH_TEST_MODULE_KO");
    if (!ko || !*ko || access(ko, R_OK) != 0)
        SKIP_TEST("no target ext4.ko (KPATCH_TEST_MODULE_KO) to read");
    auto t = KernelSymbols::from_module(ko);
    REQUIRE(t);
    CHECK(t->kind() == SourceKind::Module);
    CHECK(t->contains("ext4_file_read_iter"));   // text
    CHECK(t->contains("__this_module"));         // data (KALLSYMS_ALL)
    CHECK_FALSE(t->contains("ext4_init_fs"));    // __init: freed, not in the module's kallsyms
    auto pos = t->position("ext4_file_read_iter", {});
    REQUIRE(pos);
    CHECK(*pos == 0ul);
    // Symbol-table order, not address order: section-relative values repeat from 0.
    bool unsorted = false;
    for (size_t i = 1; i < t->symbols().size() && !unsorted; ++i)
        unsorted = t->symbols()[i].address < t->symbols()[i - 1].address;
    CHECK(unsorted);
}

TEST_CASE("module names: Module.symvers paths and .ko files as the kernel names them", "[module]")
{
    CHECK(module_name_of("fs/jbd2/jbd2") == "jbd2");
    CHECK(module_name_of("nf-nat-ftp.ko") == "nf_nat_ftp");
    CHECK(module_name_of("vmlinux") == "vmlinux");
}
