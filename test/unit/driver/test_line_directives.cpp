// Tests of the #line insertion that keeps unchanged code on its original line numbers
// (licence: GPL-2.0-only).
#include <catch2/catch.hpp>

#include "line_directives.hpp"

using namespace kpatch::driver;

TEST_CASE("diff -U0 hunks become resync points", "[lines]")
{
    auto r = parse_resyncs("--- a\n+++ b\n@@ -3,0 +4,2 @@\n+x\n+y\n@@ -10,2 +13 @@\n-a\n-b\n+c\n");
    REQUIRE(r.size() == 2);
    // Two lines added after original line 3: patched line 6 is original line 4.
    CHECK(r[0].patched_next == 6);
    CHECK(r[0].orig_next == 4);
    // Original 10-11 became patched 13: patched 14 is original 12.
    CHECK(r[1].patched_next == 14);
    CHECK(r[1].orig_next == 12);
}

TEST_CASE("a directive goes before the first unchanged line after a change", "[lines]")
{
    std::string patched = "a\nb\nNEW\nc\nd\n";
    std::string out = insert_line_directives(patched, {{4, 3}});
    CHECK(out == "a\nb\nNEW\n#line 3\nc\nd\n");
}

TEST_CASE("a directive never lands inside a comment or after a continuation", "[lines]")
{
    std::string patched = "x\nNEW\n/* comment\n still\n */\nint y;\n";
    std::string out = insert_line_directives(patched, {{4, 3}});
    // Lines 4-5 are inside the comment: the directive moves to line 6, original 5.
    CHECK(out == "x\nNEW\n/* comment\n still\n */\n#line 5\nint y;\n");
    std::string cont = "NEW\n#define M \\\n 1\nint y;\n";
    CHECK(insert_line_directives(cont, {{3, 2}}) == "NEW\n#define M \\\n 1\n#line 3\nint y;\n");
}

TEST_CASE("unchanged text stays byte for byte when there is nothing to resync", "[lines]")
{
    CHECK(insert_line_directives("a\nb\n", {}) == "a\nb\n");
}
