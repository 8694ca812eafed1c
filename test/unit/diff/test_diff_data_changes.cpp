// create-diff-object's refusals of data changes (type layouts, initializers, __init, __read_mostly) and the KPATCH_REVIEWED escape hatch, on C fixtures (licence: GPL-2.0-only).
#include <algorithm>

#include <nlohmann/json.hpp>

#include "fixtures.hpp"

using namespace kpatch;
using diff::Outcome;
using Catch::Contains;
using Catch::StartsWith;

namespace {

diff::Options named_options()
{
    diff::Options o;
    o.object_path = "fixture.o";
    return o;
}

std::string joined(const std::vector<std::string> &v)
{
    std::string out;
    for (auto &s : v)
        out += s + "\n";
    return out;
}

} // namespace

TEST_CASE("a member added in the middle of a struct a changed function uses is refused, naming all three",
          "[diff][fixture][layout][refuse]")
{
    REQUIRE_FIXTURES();
    auto r = fixtures::diff("layout_struct");
    INFO(joined(r.result.refusals));
    REQUIRE(r.result.outcome == Outcome::Refused);
    REQUIRE(r.result.refusals.size() == 1);
    const std::string &why = r.result.refusals[0];
    CHECK_THAT(why, Contains("struct `fixture_conf`"));
    CHECK_THAT(why, Contains("member `b` moved from offset 4 to offset 8"));
    CHECK_THAT(why, Contains("member `extra` added at offset 4"));
    CHECK_THAT(why, Contains("size 8 -> 12 bytes"));
    CHECK_THAT(why, Contains("`fixture_conf_get`"));
    // What to do instead.
    CHECK_THAT(why, Contains("shadow variable") && Contains("kpatch-shadow.h") && Contains("KPATCH_REVIEWED"));
    // fixture_conf_first reads `a`, which did not move: its code is the same, it is not named.
    CHECK_THAT(why, !Contains("fixture_conf_first"));
    CHECK(r.result.output == nullptr);
}

TEST_CASE("a changed enumerator value is refused, naming the enum, the enumerator and the function",
          "[diff][fixture][layout][refuse]")
{
    REQUIRE_FIXTURES();
    auto r = fixtures::diff("layout_enum");
    INFO(joined(r.result.refusals));
    REQUIRE(r.result.outcome == Outcome::Refused);
    REQUIRE(r.result.refusals.size() == 1);
    const std::string &why = r.result.refusals[0];
    CHECK_THAT(why, Contains("enum `fixture_state`") && Contains("changed its values"));
    CHECK_THAT(why, Contains("enumerator `FIXTURE_BUSY` changed value from 1 to 2"));
    CHECK_THAT(why, Contains("enumerator `FIXTURE_QUEUED` added (= 1)"));
    CHECK_THAT(why, Contains("`fixture_job_busy`"));
}

TEST_CASE("an enumerator used only as a constant whose value changed is refused, naming enum, values and functions",
          "[diff][fixture][enum][refuse]")
{
    REQUIRE_FIXTURES();
    auto r = fixtures::diff("enum_const");
    std::string all = joined(r.result.refusals);
    INFO(all);
    REQUIRE(r.result.outcome == Outcome::Refused);
    CHECK(static_cast<int>(r.result.outcome) == 2);
    REQUIRE(r.result.refusals.size() == 3);
    // The named enum: FIXTURE_MODE_SAFE inserted in the middle renumbers FIXTURE_MODE_ON.
    auto named = std::find_if(r.result.refusals.begin(), r.result.refusals.end(),
                              [](const std::string &s) { return s.find("enum `fixture_mode`") != std::string::npos; });
    REQUIRE(named != r.result.refusals.end());
    // The file is where the build put the source (absolute for these external-module fixtures).
    CHECK_THAT(*named, StartsWith("enum `fixture_mode` (") &&
                           Contains("enum_const.c) changed its values: "
                                    "enumerator `FIXTURE_MODE_ON` changed value from 1 to 2."));
    CHECK_THAT(*named, Contains("the patch's function `fixture_enable`,"));
    // Unchanged code of the object whose types hold the enum is named as old-numbering code.
    CHECK_THAT(*named, Contains("(here: `fixture_mode_is_off`, whose types hold the enum)"));
    // The same value is no change; new enumerators are not refused here.
    CHECK_THAT(*named, !Contains("FIXTURE_MODE_OFF") && !Contains("FIXTURE_MODE_SAFE"));
    // The anonymous enum is named by its first enumerator.
    auto anon = std::find_if(r.result.refusals.begin(), r.result.refusals.end(),
                             [](const std::string &s) { return s.find("anonymous enum") != std::string::npos; });
    REQUIRE(anon != r.result.refusals.end());
    CHECK_THAT(*anon, StartsWith("the anonymous enum of `FIXTURE_FLAG_READ` (") &&
                          Contains("enum_const.c) changed its values: "
                                   "enumerator `FIXTURE_FLAG_WRITE` changed value from 2 to 4."));
    CHECK_THAT(*anon, !Contains("FIXTURE_FLAG_EXEC"));
    // An anonymous enum a typedef names goes by the typedef; its holders are found through it.
    auto typed = std::find_if(r.result.refusals.begin(), r.result.refusals.end(),
                              [](const std::string &s) { return s.find("typedef `fixture_level_t`") != std::string::npos; });
    REQUIRE(typed != r.result.refusals.end());
    CHECK_THAT(*typed, StartsWith("typedef `fixture_level_t` (an enum) (") &&
                           Contains("enumerator `FIXTURE_LEVEL_HIGH` changed value from 20 to 30."));
    CHECK_THAT(*typed, Contains("(here: `fixture_level_is_low`, whose types hold the enum)"));
    // What to do, and the waiver.
    CHECK_THAT(all, Contains("append new enumerators at the end") && Contains("KPATCH_REVIEWED"));
    // An unrelated unchanged function is neither patched nor named; the anonymous enum has
    // no name to look for in functions' types.
    CHECK_THAT(all, !Contains("fixture_unrelated"));
    CHECK_THAT(*anon, !Contains("fixture_mode_is_off"));
    REQUIRE(r.result.changed.size() == 1);
    CHECK(r.result.changed[0].name == "fixture_enable");
    CHECK(r.result.output == nullptr);
}

TEST_CASE("an enumerator appended to an enum used only as a constant is not refused", "[diff][fixture][enum]")
{
    REQUIRE_FIXTURES();
    auto r = fixtures::diff("enum_append");
    INFO(joined(r.result.refusals));
    REQUIRE(r.result.outcome == Outcome::Changed);
    CHECK(static_cast<int>(r.result.outcome) == 0);
    CHECK(r.result.refusals.empty());
    CHECK_THAT(joined(r.result.warnings), !Contains("fixture_mode"));
    REQUIRE(r.result.changed.size() == 1);
    CHECK(r.result.changed[0].name == "fixture_enable");
    REQUIRE(r.result.output);
    auto *f = fixtures::symbol(*r.result.output, "fixture_enable");
    REQUIRE(f);
    CHECK(f->is_defined());
}

TEST_CASE("KPATCH_REVIEWED waives a changed enumerator value and the manifest records it",
          "[diff][fixture][enum][reviewed]")
{
    REQUIRE_FIXTURES();
    auto opts = named_options();
    auto r = fixtures::diff("enum_reviewed", opts);
    INFO(joined(r.result.refusals));
    REQUIRE(r.result.outcome == Outcome::Changed);
    REQUIRE(r.result.changed.size() == 1);
    CHECK(r.result.changed[0].name == "fixture_enable");
    REQUIRE(r.result.reviewed.size() == 1);
    auto &rev = r.result.reviewed[0];
    CHECK(rev.function == "fixture_enable");
    REQUIRE(rev.waived.size() == 3);
    std::string waived = joined(rev.waived);
    CHECK_THAT(waived, Contains("enumerator `FIXTURE_MODE_ON` changed value from 1 to 2"));
    CHECK_THAT(waived, Contains("enumerator `FIXTURE_FLAG_WRITE` changed value from 2 to 4"));
    CHECK_THAT(joined(r.result.warnings), Contains("waived by KPATCH_REVIEWED for fixture_enable") &&
                                              Contains("FIXTURE_MODE_ON"));
    REQUIRE(r.result.output);
    CHECK(fixtures::symbol(*r.result.output, "fixture_enable"));
    auto j = nlohmann::json::parse(diff::manifest_json(r.result, opts, false));
    REQUIRE(j["reviewed"].size() == 1);
    CHECK(j["reviewed"][0]["function"] == "fixture_enable");
    CHECK(j["reviewed"][0]["reason"] == "fixture_mode_set is patched to the new numbering too");
    CHECK(j["reviewed"][0]["waived"].size() == 3);
    CHECK(j["refusals"].empty());
    CHECK(j["exit_code"] == 0);
}

TEST_CASE("__read_mostly and __ro_after_init variables: changed values and moves are refused by name",
          "[diff][fixture][refuse]")
{
    REQUIRE_FIXTURES();
    auto r = fixtures::diff("read_mostly");
    std::string all = joined(r.result.refusals);
    INFO(all);
    REQUIRE(r.result.outcome == Outcome::Refused);
    CHECK(r.result.refusals.size() == 3);
    CHECK_THAT(all, Contains("__read_mostly variable `fixture_rm` (.data..read_mostly) changed its initial value"));
    CHECK_THAT(all, Contains("load hook"));
    CHECK_THAT(all, Contains("__ro_after_init variable `fixture_roai` (.data..ro_after_init) changed its initial value"));
    CHECK_THAT(all, Contains("read-only now"));
    CHECK_THAT(all, Contains("variable `fixture_moved` moved from .data.fixture_moved (ordinary data) to "
                             ".data..ro_after_init (__ro_after_init)"));
}

TEST_CASE("refusal messages of existing rules say what changed and what to do", "[diff][fixture][refuse]")
{
    REQUIRE_FIXTURES();
    auto data = fixtures::diff("data_init");
    REQUIRE(data.result.outcome == Outcome::Refused);
    CHECK_THAT(data.result.refusals.at(0),
               Contains("data object `fixture_limit` (.data.fixture_limit) changed its initial value") &&
                   Contains("load hook") && Contains("shadow variable"));
    auto init = fixtures::diff("init_change");
    REQUIRE(init.result.outcome == Outcome::Refused);
    CHECK_THAT(init.result.refusals.at(0), Contains("function `fixture_init` in .init.text changed") &&
                                               Contains("freed") && Contains("post-patch hook") &&
                                               Contains("KPATCH_REVIEWED(fixture_init"));
}

TEST_CASE("a type changed only for new code that makes and frees its own objects is fine (exit 0)",
          "[diff][fixture][layout]")
{
    REQUIRE_FIXTURES();
    auto r = fixtures::diff("layout_newcode");
    INFO(joined(r.result.refusals));
    REQUIRE(r.result.outcome == Outcome::Changed);
    CHECK(r.result.refusals.empty());
    CHECK(r.result.new_functions == std::vector<std::string>{"fixture_priv_new"});
    REQUIRE(r.result.changed.size() == 1);
    CHECK(r.result.changed[0].name == "fixture_priv_entry");
}

TEST_CASE("a comment inside a struct a changed function uses is not a layout change", "[diff][fixture][layout]")
{
    REQUIRE_FIXTURES();
    auto r = fixtures::diff("layout_comment");
    INFO(joined(r.result.refusals));
    REQUIRE(r.result.outcome == Outcome::Changed);
    CHECK(r.result.refusals.empty());
    REQUIRE(r.result.changed.size() == 1);
    CHECK(r.result.changed[0].name == "fixture_pair_sum");
}

TEST_CASE("a comment-only change changes nothing (exit 3)", "[diff][fixture][layout]")
{
    REQUIRE_FIXTURES();
    auto r = fixtures::diff("comment_only");
    CHECK(r.result.outcome == Outcome::Unchanged);
    CHECK(static_cast<int>(r.result.outcome) == 3);
    CHECK(r.result.refusals.empty());
}

TEST_CASE("KPATCH_REVIEWED turns a layout refusal into a warning and the manifest lists it",
          "[diff][fixture][layout][reviewed]")
{
    REQUIRE_FIXTURES();
    auto opts = named_options();
    auto r = fixtures::diff("layout_reviewed", opts);
    INFO(joined(r.result.refusals));
    REQUIRE(r.result.outcome == Outcome::Changed);
    CHECK(static_cast<int>(r.result.outcome) == 0);
    REQUIRE(r.result.changed.size() == 1);
    CHECK(r.result.changed[0].name == "fixture_conf_get");
    REQUIRE(r.result.reviewed.size() == 1);
    auto &rev = r.result.reviewed[0];
    CHECK(rev.function == "fixture_conf_get");
    CHECK(rev.reason == "every fixture_conf is made after the patch loads");
    REQUIRE(rev.waived.size() == 1);
    CHECK_THAT(rev.waived[0], Contains("struct `fixture_conf`") && Contains("member `b` moved"));
    CHECK_THAT(joined(r.result.warnings), Contains("KPATCH_REVIEWED") && Contains("fixture_conf"));
    // The record is for the manifest: the section and its symbol stay out of the patch object.
    CHECK(r.result.output->find_section(".kpatch.reviewed") == nullptr);
    CHECK(fixtures::symbol(*r.result.output, "__kpatch_reviewed_fixture_conf_get") == nullptr);
    CHECK(r.result.new_data.empty());

    auto j = nlohmann::json::parse(diff::manifest_json(r.result, opts, false));
    REQUIRE(j["reviewed"].size() == 1);
    CHECK(j["reviewed"][0]["function"] == "fixture_conf_get");
    CHECK(j["reviewed"][0]["reason"] == "every fixture_conf is made after the patch loads");
    REQUIRE(j["reviewed"][0]["waived"].size() == 1);
    CHECK_THAT(j["reviewed"][0]["waived"][0].get<std::string>(), Contains("fixture_conf"));
    CHECK(j["refusals"].empty());
    CHECK(j["exit_code"] == 0);
}

TEST_CASE("KPATCH_REVIEWED on a changed __init function leaves it out of the patch", "[diff][fixture][reviewed]")
{
    REQUIRE_FIXTURES();
    auto r = fixtures::diff("init_reviewed");
    INFO(joined(r.result.refusals));
    CHECK(r.result.refusals.empty());
    CHECK(r.result.changed.empty());
    CHECK(r.result.outcome == Outcome::Unchanged);   // nothing else changed: exit 3
    REQUIRE(r.result.reviewed.size() == 1);
    REQUIRE(r.result.reviewed[0].waived.size() == 1);
    CHECK_THAT(r.result.reviewed[0].waived[0], Contains("fixture_init") && Contains("__init"));
    CHECK_THAT(joined(r.result.warnings), Contains("left out of the patch"));
}

TEST_CASE("a KPATCH_REVIEWED entry that waives nothing is reported", "[diff][fixture][reviewed]")
{
    REQUIRE_FIXTURES();
    auto r = fixtures::diff("reviewed_unused");
    REQUIRE(r.result.outcome == Outcome::Changed);
    REQUIRE(r.result.reviewed.size() == 1);
    CHECK(r.result.reviewed[0].waived.empty());
    CHECK_THAT(joined(r.result.warnings), Contains("KPATCH_REVIEWED(fixture_pair_sum) waived nothing"));
    auto waived = fixtures::diff("layout_reviewed");
    CHECK_THAT(joined(waived.result.warnings), !Contains("waived nothing"));
}

TEST_CASE("a malformed .kpatch.reviewed is an input error naming the file", "[diff][fixture][reviewed][errors]")
{
    REQUIRE_FIXTURES();
    auto orig = fixtures::load("orig", "reviewed_bad");
    auto patched = fixtures::load("patched", "reviewed_bad");
    auto res = diff::run_diff(*orig, *patched, named_options());
    REQUIRE(!res);
    CHECK_THAT(res.error().message, Contains(patched->path) && Contains(".kpatch.reviewed") &&
                                        Contains("fixture_use_limit") && Contains("no NUL-terminated reason"));
}

TEST_CASE("new data a changed function uses is allowed; the manifest says it lives in the patch module",
          "[diff][fixture][json]")
{
    REQUIRE_FIXTURES();
    auto opts = named_options();
    auto r = fixtures::diff("new_data", opts);
    INFO(joined(r.result.refusals));
    REQUIRE(r.result.outcome == Outcome::Changed);
    CHECK(r.result.new_data == std::vector<std::string>{"fixture_new_counter"});
    auto *d = fixtures::symbol(*r.result.output, "fixture_new_counter");
    REQUIRE(d);
    CHECK(d->is_defined());
    auto j = nlohmann::json::parse(diff::manifest_json(r.result, opts, false));
    REQUIRE(j["new_data"].size() == 1);
    CHECK(j["new_data"][0]["name"] == "fixture_new_counter");
    CHECK(j["new_data"][0]["lives_in"] == "patch module");
    CHECK_THAT(j["new_data"][0]["note"].get<std::string>(), Contains("patch module"));
    CHECK(j["reviewed"].empty());
}
