// Tests of link_order_position / read_link_order on a module linked from compiled fixture
// objects the way kbuild links a composite module (licence: GPL-2.0-only).
#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>
#include <string>
#include <unistd.h>

#include <kpatch/symbols/link_order.hpp>

using namespace kpatch::symbols;

namespace {

std::string built(const std::string &file)
{
    const char *dir = std::getenv("KPATCH_TEST_LINK_ORDER_DIR");
    REQUIRE(dir);
    return std::string(dir) + "/" + file;
}

// The fixture module: `ld -r` of a.o, b.o, c.o (a and c each have a static `dup` and
// `state`, b a global `helper` that a's static `helper` shares its name with).
KernelSymbols module()
{
    auto t = KernelSymbols::from_module(built("link_order_module.o"));
    REQUIRE(t);
    return std::move(t).value();
}

LinkedObject linked(const std::string &object, const std::string &part)
{
    auto t = KernelSymbols::from_module_object(built("link_order_" + part + ".o"));
    REQUIRE(t);
    return {object, std::move(t).value()};
}

// a.o, b.o, c.o as kbuild's <module>.mod would list them, named like tree objects.
std::vector<LinkedObject> link_order()
{
    return {linked("fs/m/a.o", "a"), linked("fs/m/b.o", "b"), linked("fs/m/c.o", "c")};
}

} // namespace

TEST_CASE("link order: the Nth copy belongs to the Nth object defining the name", "[link-order]")
{
    KernelSymbols m = module();
    REQUIRE(m.count("dup") == 2);
    auto first = link_order_position(m, "m", "dup", true, link_order(), "fs/m/a.o");
    REQUIRE(first);
    CHECK(*first == 1);
    auto second = link_order_position(m, "m", "dup", true, link_order(), "fs/m/c.o");
    REQUIRE(second);
    CHECK(*second == 2);
    // Data too: both `state` variables.
    auto state = link_order_position(m, "m", "state", true, link_order(), "fs/m/c.o");
    REQUIRE(state);
    CHECK(*state == 2);
}

TEST_CASE("link order: a name the module has once is position 0", "[link-order]")
{
    auto pos = link_order_position(module(), "m", "a_entry", false, link_order(), "fs/m/a.o");
    REQUIRE(pos);
    CHECK(*pos == 0);
}

TEST_CASE("link order: a global comes after every local namesake", "[link-order]")
{
    KernelSymbols m = module();
    REQUIRE(m.count("helper") == 2);
    auto global = link_order_position(m, "m", "helper", false, {}, "fs/m/b.o");
    REQUIRE(global);
    CHECK(*global == 2);
    auto local = link_order_position(m, "m", "helper", true, link_order(), "fs/m/a.o");
    REQUIRE(local);
    CHECK(*local == 1);
}

TEST_CASE("link order: counts that disagree are refused, naming symbol, module, candidates",
          "[link-order]")
{
    // c.o missing from the list: the .ko has two copies, the objects one.
    std::vector<LinkedObject> short_list = {linked("fs/m/a.o", "a"), linked("fs/m/b.o", "b")};
    auto pos = link_order_position(module(), "m", "dup", true, short_list, "fs/m/a.o");
    REQUIRE_FALSE(pos);
    const std::string &msg = pos.error().message;
    CHECK_THAT(msg, Catch::Contains("`dup`"));
    CHECK_THAT(msg, Catch::Contains("module m"));
    CHECK_THAT(msg, Catch::Contains("has 2 local copies"));
    CHECK_THAT(msg, Catch::Contains("define 1: fs/m/a.o"));
}

TEST_CASE("link order: an object whose copy has another size than the .ko's is refused",
          "[link-order]")
{
    std::vector<LinkedObject> other = {linked("fs/m/a.o", "a"), linked("fs/m/b.o", "b"),
                                       linked("fs/m/c.o", "d")};
    auto pos = link_order_position(module(), "m", "dup", true, other, "fs/m/a.o");
    REQUIRE_FALSE(pos);
    CHECK_THAT(pos.error().message, Catch::Contains("copy 2 in the .ko"));
    CHECK_THAT(pos.error().message, Catch::Contains("fs/m/c.o"));
    CHECK_THAT(pos.error().message, Catch::Contains("do not match"));
}

TEST_CASE("link order: an object that is not listed, or lacks the name, is refused", "[link-order]")
{
    auto absent = link_order_position(module(), "m", "dup", true, link_order(), "fs/m/x.o");
    REQUIRE_FALSE(absent);
    CHECK_THAT(absent.error().message, Catch::Contains("not among the module's 3 objects"));
    auto lacks = link_order_position(module(), "m", "dup", true, link_order(), "fs/m/b.o");
    REQUIRE_FALSE(lacks);
    CHECK_THAT(lacks.error().message, Catch::Contains("defines 0 local copies"));
    CHECK_THAT(lacks.error().message, Catch::Contains("fs/m/a.o"));
    CHECK_THAT(lacks.error().message, Catch::Contains("fs/m/c.o"));
    auto nowhere = link_order_position(module(), "m", "no_such", true, link_order(), "fs/m/a.o");
    REQUIRE_FALSE(nowhere);
    CHECK_THAT(nowhere.error().message, Catch::Contains("not in the symbol table of module m"));
}

TEST_CASE("read_link_order: OBJECT<TAB>PATH lines, in order; bad lines are errors", "[link-order]")
{
    char dir[] = "/tmp/kpatch-link-order-XXXXXX";
    REQUIRE(mkdtemp(dir));
    std::string list = std::string(dir) + "/objects";
    {
        std::ofstream f(list);
        f << "fs/m/a.o\t" << built("link_order_a.o") << "\n"
          << "fs/m/b.o\t" << built("link_order_b.o") << "\n"
          << "fs/m/c.o\t" << built("link_order_c.o") << "\n";
    }
    auto objects = read_link_order(list);
    REQUIRE(objects);
    REQUIRE(objects->size() == 3);
    CHECK((*objects)[2].object == "fs/m/c.o");
    auto pos = link_order_position(module(), "m", "dup", true, *objects, "fs/m/c.o");
    REQUIRE(pos);
    CHECK(*pos == 2);

    {
        std::ofstream f(list);
        f << "fs/m/a.o " << built("link_order_a.o") << "\n";
    }
    auto bad = read_link_order(list);
    REQUIRE_FALSE(bad);
    CHECK_THAT(bad.error().message, Catch::Contains(list + ":1"));
    {
        std::ofstream f(list);
        f << "fs/m/a.o\t" << dir << "/missing.o\n";
    }
    auto missing = read_link_order(list);
    REQUIRE_FALSE(missing);
    CHECK_THAT(missing.error().message, Catch::Contains("missing.o"));
    unlink(list.c_str());
    rmdir(dir);
}
