// Unit tests: reading the core module's sysfs tree (licence: GPL-2.0-only).
#include "tree.hpp"

#include <kpatch/loader/sysfs.hpp>

#include <catch2/catch.hpp>

using namespace kpatch;
using namespace kpatch::loader;
using kpatch::test::TempTree;

TEST_CASE("last_error lines split into patch, op, errno and message", "[sysfs]")
{
    auto e = parse_last_error("kpatch_pipe enable EBUSY: pipe_read is on the stack of cat/123\n");
    REQUIRE(e);
    CHECK(e->patch == "kpatch_pipe");
    CHECK(e->op == "enable");
    CHECK(e->errno_name == "EBUSY");
    CHECK(e->message == "pipe_read is on the stack of cat/123");
    CHECK_FALSE(parse_last_error(""));
    CHECK_FALSE(parse_last_error("garbage without colon"));
}

TEST_CASE("functions lines parse, and a malformed one is an error naming the line", "[sysfs]")
{
    auto f = parse_functions("cmdline_proc_show 0 ffffffff81000000 ffffffffc0001000 1\ns_show 2 ffffffff81 ffffffffc2 0\n");
    REQUIRE(f);
    REQUIRE(f->size() == 2);
    CHECK((*f)[0].name == "cmdline_proc_show");
    CHECK((*f)[0].active);
    CHECK((*f)[1].sympos == 2);
    CHECK_FALSE((*f)[1].active);

    auto bad = parse_functions("cmdline_proc_show zero\n");
    REQUIRE_FALSE(bad);
    CHECK_THAT(bad.error().message, Catch::Contains("line 1"));
}

TEST_CASE("patches are read oldest first and found by either spelling of the name", "[sysfs]")
{
    TempTree t;
    Config c = t.config();
    CHECK_FALSE(core_loaded(c));
    CHECK(read_patches(c)->empty());

    test::add_sysfs_patch(c, "kpatch_b", true, 7);
    test::add_sysfs_patch(c, "kpatch_a", false, 3);
    t.write("sys/kernel/kpatch/stop_machine_ns", "1234\n");
    auto all = read_patches(c);
    REQUIRE(all);
    REQUIRE(all->size() == 2);
    CHECK((*all)[0].name == "kpatch_a");
    CHECK_FALSE((*all)[0].enabled);
    CHECK((*all)[1].order == 7);
    CHECK((*all)[1].functions.size() == 1);

    auto b = read_patch(c, "kpatch-b");
    REQUIRE(b);
    CHECK(b->name == "kpatch_b");
    auto missing = read_patch(c, "kpatch_c");
    REQUIRE_FALSE(missing);
    CHECK(missing.error().code == kNotFound);
}

TEST_CASE("a sysfs 'enabled' that is neither 0 nor 1 is reported", "[sysfs]")
{
    TempTree t;
    Config c = t.config();
    test::add_sysfs_patch(c, "kpatch_x", true, 1);
    t.write("sys/kernel/kpatch/kpatch_x/enabled", "maybe\n");
    auto all = read_patches(c);
    REQUIRE_FALSE(all);
    CHECK_THAT(all.error().message, Catch::Contains("enabled"));
}
