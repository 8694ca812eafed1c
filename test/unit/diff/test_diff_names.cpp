// Correlation keys: the suffixes compilers renumber are dropped, the kinds kept (licence: GPL-2.0-only).
#include <catch2/catch.hpp>

#include "diff/passes.hpp"

using kpatch::diff::base_name;

TEST_CASE("base names drop renumbered suffixes but keep their kind", "[diff][correlate]")
{
    CHECK(base_name("foo") == "foo");
    CHECK(base_name("foo.constprop.0") == "foo.constprop");
    CHECK(base_name("foo.constprop.12") == base_name("foo.constprop.3"));
    CHECK(base_name("foo.isra.0") == "foo.isra");
    CHECK(base_name("foo.part.1") == "foo.part");
    CHECK(base_name("foo.cold") == "foo.cold");
    CHECK(base_name("foo.part.0.cold") == "foo.part.cold");
    CHECK(base_name("count.3") == "count");
    CHECK(base_name("__func__.17") == "__func__");
    CHECK(base_name(".LC0") == ".LC0");
    CHECK(base_name("foo.part.0") != base_name("foo"));
}

TEST_CASE("cold parts are known by both GCC namings", "[diff][correlate]")
{
    using kpatch::diff::cold_parent;
    CHECK(cold_parent("foo.cold") == "foo");
    CHECK(cold_parent("foo.cold.3") == "foo");            // GCC 8 and 9
    CHECK(cold_parent("foo.part.0.cold") == "foo.part.0");
    CHECK(cold_parent("foo.constprop.0.cold.12") == "foo.constprop.0");
    CHECK(cold_parent("foo").empty());
    CHECK(cold_parent("foo.coldness").empty());
    CHECK(cold_parent("foo.cold.x").empty());
    CHECK(cold_parent(".cold").empty());
}
