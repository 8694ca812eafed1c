// Unit tests: reading module files and refusing untrusted ones (licence: GPL-2.0-only).
#include "tree.hpp"

#include <kpatch/loader/module_file.hpp>

#include <catch2/catch.hpp>

#include <fstream>
#include <sys/stat.h>
#include <unistd.h>

using namespace kpatch;
using namespace kpatch::loader;
using kpatch::test::TempTree;
namespace fs = std::filesystem;

TEST_CASE("modinfo and the kpatch manifest are read from the module's ELF", "[module]")
{
    TempTree t;
    auto m = read_module_info(t.fixture("kpatch-good.ko"));
    REQUIRE(m);
    CHECK(m->name == "kpatch_good");
    CHECK(m->release == "6.1.0-56-amd64");
    CHECK_THAT(m->vermagic, Catch::StartsWith("6.1.0-56-amd64 SMP"));
    CHECK_FALSE(m->is_signed);
    REQUIRE(m->has_manifest);
    CHECK(m->build_id == "0123abcd");
    CHECK(m->patch_hash == "feedbeef");
    REQUIRE(m->replaced.size() == 2);
    CHECK(m->replaced[0].name == "cmdline_proc_show");
    CHECK(m->replaced[1].sympos == 2);
    CHECK(m->added == std::vector<std::string>{"kpatch_helper"});
}

TEST_CASE("kpatch-build's modinfo keys stand in for a missing manifest section", "[module]")
{
    TempTree t;
    auto m = read_module_info(t.fixture("kpatch-modinfo.ko"));
    REQUIRE(m);
    CHECK(m->has_manifest);
    CHECK(m->kernel_release == "6.1.0-56-amd64");
    CHECK(m->build_id == "0123abcd");
    REQUIRE(m->replaced.size() == 2);
    CHECK(m->replaced[1].name == "s_show");
    CHECK(m->replaced[1].sympos == 2);
    CHECK(m->added == std::vector<std::string>{"kpatch_helper"});
}

TEST_CASE("a module without a manifest still has its name and vermagic", "[module]")
{
    TempTree t;
    auto m = read_module_info(t.fixture("kpatch-plain.ko"));
    REQUIRE(m);
    CHECK(m->name == "kpatch_plain");
    CHECK_FALSE(m->has_manifest);
    CHECK(m->replaced.empty());
}

TEST_CASE("an appended signature is noticed", "[module]")
{
    TempTree t;
    auto p = t.fixture("kpatch-plain.ko");
    std::ofstream(p, std::ios::app | std::ios::binary) << std::string(40, 'S') << "~Module signature appended~\n";
    auto m = read_module_info(p);
    REQUIRE(m);
    CHECK(m->is_signed);
}

TEST_CASE("files that are not kernel modules are refused with a reason", "[module]")
{
    TempTree t;
    auto text = read_module_info(t.write("notelf.ko", "hello"));
    REQUIRE_FALSE(text);
    CHECK(text.error().code == kRefused);
    CHECK_THAT(text.error().message, Catch::Contains("not a kernel module"));

    // A huge file (here sparse, no disk used) is refused from its size, unread.
    auto huge = t.fixture("kpatch-plain.ko");
    REQUIRE(::truncate(huge.c_str(), off_t(3) << 30) == 0);
    auto big = read_module_info(huge);
    REQUIRE_FALSE(big);
    CHECK(big.error().code == kRefused);
    CHECK_THAT(big.error().message, Catch::Contains(huge.string()) && Catch::Contains("3221225472 bytes"));

    auto missing = read_module_info(t.root() / "missing.ko");
    REQUIRE_FALSE(missing);
    CHECK(missing.error().code == kNotFound);
}

TEST_CASE("a broken manifest is an error, not a silent skip", "[module]")
{
    ModuleInfo m;
    CHECK_FALSE(apply_manifest(m, "{not json"));
    CHECK(apply_manifest(m, std::string("{\"replaced\":[\"f\"]}\0\0\0", 22)));
    CHECK(m.replaced.at(0).name == "f");
    ModuleInfo r;
    // An entry of the wrong type is an error too (it used to be skipped).
    CHECK_FALSE(apply_manifest(r, R"({"reviewed":[{"function":"g","reason":"safe","waived":["a","b"]},7]})"));
    REQUIRE(apply_manifest(r, R"({"reviewed":[{"function":"g","reason":"safe","waived":["a","b"]}]})"));
    REQUIRE(r.reviewed.size() == 1);
    CHECK(r.reviewed[0].function == "g");
    CHECK(r.reviewed[0].waived == std::vector<std::string>{"a", "b"});
}

TEST_CASE("module names follow kbuild", "[module]")
{
    CHECK(module_name_from_path("/a/b/kpatch-foo.ko") == "kpatch_foo");
    CHECK(module_name_from_path("x") == "x");
}

TEST_CASE("open_trusted refuses symlinks, foreign owners and group/other-writable files", "[module][safety]")
{
    TempTree t;
    auto good = t.fixture("kpatch-good.ko");
    CHECK(open_trusted(good, ::getuid()));

    SECTION("symlink to the file")
    {
        fs::create_symlink(good, t.root() / "link.ko");
        auto r = open_trusted(t.root() / "link.ko", ::getuid());
        REQUIRE_FALSE(r);
        CHECK(r.error().code == kRefused);
        CHECK_THAT(r.error().message, Catch::Contains("symlink"));
    }
    SECTION("symlink in a directory on the path")
    {
        fs::create_directory_symlink(t.root() / "modules", t.root() / "linkdir");
        auto r = open_trusted(t.root() / "linkdir/kpatch-good.ko", ::getuid());
        REQUIRE_FALSE(r);
        CHECK_THAT(r.error().message, Catch::Contains("symlink"));
    }
    SECTION("group writable")
    {
        ::chmod(good.c_str(), 0664);
        auto r = open_trusted(good, ::getuid());
        REQUIRE_FALSE(r);
        CHECK_THAT(r.error().message, Catch::Contains("writable by its group"));
    }
    SECTION("world writable")
    {
        ::chmod(good.c_str(), 0646);
        auto r = open_trusted(good, ::getuid());
        REQUIRE_FALSE(r);
        CHECK_THAT(r.error().message, Catch::Contains("writable by others"));
    }
    SECTION("another owner")
    {
        auto r = open_trusted(good, ::getuid() + 1);
        REQUIRE_FALSE(r);
        CHECK_THAT(r.error().message, Catch::Contains("owned by uid"));
    }
    SECTION("a directory")
    {
        auto r = open_trusted(t.root() / "modules", ::getuid());
        REQUIRE_FALSE(r);
        CHECK_THAT(r.error().message, Catch::Contains("not a regular file"));
    }
}
