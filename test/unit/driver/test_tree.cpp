// Tests of the prepared tree's config check: what `make olddefconfig` may not change (licence: GPL-2.0-only).
#include <catch2/catch.hpp>

#include "tree.hpp"

using kpatch::driver::config_drift;

TEST_CASE("a tree whose config olddefconfig left alone has no drift", "[driver][tree]")
{
    std::string config = "# comment\nCONFIG_A=y\nCONFIG_B=\"text\"\n# CONFIG_C is not set\n";
    CHECK(config_drift(config, config).empty());
    // Options the input does not set may be added (a minimal config is filled in).
    CHECK(config_drift("CONFIG_A=y\n", "CONFIG_A=y\nCONFIG_NEW=m\n").empty());
}

TEST_CASE("options dropped or changed by a missing pahole are named", "[driver][tree]")
{
    std::string debian = "CONFIG_DEBUG_INFO_BTF=y\nCONFIG_DEBUG_INFO_BTF_MODULES=y\n"
                         "CONFIG_PAHOLE_VERSION=124\nCONFIG_PAHOLE_HAS_SPLIT_BTF=y\n";
    std::string tree = "CONFIG_DEBUG_INFO_BTF=y\nCONFIG_PAHOLE_VERSION=0\n";
    auto drift = config_drift(debian, tree);
    REQUIRE(drift.size() == 3);
    CHECK(drift[0] == "CONFIG_DEBUG_INFO_BTF_MODULES=y -> (not set)");
    CHECK(drift[1] == "CONFIG_PAHOLE_HAS_SPLIT_BTF=y -> (not set)");
    CHECK(drift[2] == "CONFIG_PAHOLE_VERSION=124 -> 0");
}
