// kpatch-build's first pass over the patch's objects: the new globals each one brings for
// the others (licence: GPL-2.0-only).
#include <algorithm>

#include <catch2/catch.hpp>

#include "fixtures.hpp"
#include "patch_symbols.hpp"

using namespace kpatch::driver;

namespace {

ObjectPair fixture_pair(const std::string &name)
{
    const std::string &d = fixtures::dir();
    return {name + ".o", d + "/orig/" + name + ".o", d + "/patched/" + name + ".o"};
}

} // namespace

TEST_CASE("new global functions and data of a patched object are what others may use", "[driver][compat]")
{
    REQUIRE_FIXTURES();
    auto names = new_globals(fixture_pair("cross_callee"));
    REQUIRE(names);
    std::sort(names->begin(), names->end());
    CHECK(*names == std::vector<std::string>{"cross_shared_counter", "cross_shared_helper"});

    // A caller's undefined references and a changed function are not new definitions;
    // a new static helper is not visible to other objects.
    auto caller = new_globals(fixture_pair("cross_caller"));
    REQUIRE(caller);
    CHECK(caller->empty());
    auto statics = new_globals(fixture_pair("newfunc"));
    REQUIRE(statics);
    CHECK(statics->empty());

    auto all = patch_symbols({fixture_pair("cross_caller"), fixture_pair("cross_callee")});
    REQUIRE(all);
    CHECK(*all == std::set<std::string>{"cross_shared_counter", "cross_shared_helper"});
}

TEST_CASE("an unreadable object names itself", "[driver][compat]")
{
    auto r = patch_symbols({{"fs/none.o", "/nonexistent/orig.o", "/nonexistent/patched.o"}});
    REQUIRE_FALSE(r);
    CHECK(r.error().message.find("fs/none.o") != std::string::npos);
}
