// Unit tests: reading the core module's sysfs tree (licence: GPL-2.0-only).
#include "tree.hpp"

#include <kpatch/loader/sysfs.hpp>

#include <catch2/catch.hpp>

using namespace kpatch;
using namespace kpatch::loader;
using kpatch::test::TempTree;
namespace fs = std::filesystem;

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

TEST_CASE("function directory names split into name and position", "[sysfs]")
{
    auto f = parse_function_dir("cmdline_proc_show,0");
    REQUIRE(f);
    CHECK(f->name == "cmdline_proc_show");
    CHECK(f->sympos == 0);
    auto g = parse_function_dir("s_show.cold,12");
    REQUIRE(g);
    CHECK(g->name == "s_show.cold");
    CHECK(g->sympos == 12);
    for (auto bad : {"", "s_show", "s_show,", ",1", "s_show,x", "s_show,1x", "s_show,-1"})
        CHECK_FALSE(parse_function_dir(bad));
}

TEST_CASE("functions are read from one directory per function, grouped by object", "[sysfs]")
{
    TempTree t;
    Config c = t.config();
    std::vector<std::string> funcs;
    // More than one page's worth of the old single-file format (about 60 lines).
    for (int i = 0; i < 500; ++i)
        funcs.push_back("vmlinux/func_" + std::to_string(1000 + i) + ",0");
    funcs.push_back("ext4/ext4_fill_super,0");
    funcs.push_back("vmlinux/s_show,2");
    test::add_sysfs_patch(c, "kpatch_big", true, 4, funcs);
    t.write("sys/kernel/kpatch/kpatch_big/vmlinux/s_show,2/active", "0\n");
    t.write("sys/kernel/kpatch/kpatch_big/ext4/state", "pending\n");
    // A non-root reader cannot open the 0400 address files: they read as empty.
    fs::remove(c.sysfs_root / "kpatch_big/vmlinux/s_show,2/old_addr");
    fs::remove(c.sysfs_root / "kpatch_big/vmlinux/s_show,2/new_addr");

    auto p = read_patch(c, "kpatch_big");
    REQUIRE(p);
    REQUIRE(p->functions.size() == 502);
    REQUIRE(p->objects.size() == 2);
    CHECK(p->objects[0].name == "ext4");
    CHECK(p->objects[0].state == "pending");
    CHECK(p->objects[1].name == "vmlinux");
    CHECK(p->objects[1].state == "applied");
    CHECK(p->functions[0].object == "ext4");
    CHECK(p->functions[0].name == "ext4_fill_super");
    CHECK(p->functions[1].name == "func_1000");
    CHECK(p->functions[1].old_addr == "0xffffffff81000000");
    CHECK(p->functions[1].active);
    const auto &s = p->functions.back();
    CHECK(s.name == "s_show");
    CHECK(s.sympos == 2);
    CHECK_FALSE(s.active);
    CHECK(s.old_addr.empty());
}

TEST_CASE("a malformed function directory is an error naming it", "[sysfs]")
{
    TempTree t;
    Config c = t.config();
    test::add_sysfs_patch(c, "kpatch_x", true, 1);
    SECTION("active neither 0 nor 1")
    {
        t.write("sys/kernel/kpatch/kpatch_x/vmlinux/cmdline_proc_show,0/active", "2\n");
        auto p = read_patch(c, "kpatch_x");
        REQUIRE_FALSE(p);
        CHECK_THAT(p.error().message, Catch::Contains("cmdline_proc_show,0") && Catch::Contains("active"));
    }
    SECTION("a directory without a position")
    {
        fs::create_directories(c.sysfs_root / "kpatch_x/vmlinux/nopos");
        auto p = read_patch(c, "kpatch_x");
        REQUIRE_FALSE(p);
        CHECK_THAT(p.error().message, Catch::Contains("nopos"));
    }
    SECTION("an object without state")
    {
        fs::create_directories(c.sysfs_root / "kpatch_x/ext4");
        auto p = read_patch(c, "kpatch_x");
        REQUIRE_FALSE(p);
        CHECK_THAT(p.error().message, Catch::Contains("ext4") && Catch::Contains("state"));
    }
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
