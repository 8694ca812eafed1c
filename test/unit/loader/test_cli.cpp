// Unit tests: kpatchctl's argument parsing, dispatcher, exit codes and JSON output (licence: GPL-2.0-only).
#include "tree.hpp"

#include <cli.hpp>

#include <catch2/catch.hpp>

#include <sstream>

using namespace kpatch;
using namespace kpatch::ctl;
using kpatch::test::FakeKernel;
using kpatch::test::TempTree;

namespace {

struct Run {
    int code;
    std::string out;
    std::string err;
};

Run run_ctl(const TempTree &t, std::vector<std::string> args)
{
    loader::Config c = t.config();
    FakeKernel k(c);
    RunEnv env{c, k, false};
    std::ostringstream out, err;
    Io io{out, err};
    int code = run(args, env, io);
    return {code, out.str(), err.str()};
}

} // namespace

TEST_CASE("options go before or after the verb", "[cli]")
{
    std::vector<std::string> a = {"--json=short", "load", "-q", "--retries", "3", "foo.ko"};
    auto o = parse_args(a);
    REQUIRE(o);
    CHECK(o->verb == "load");
    CHECK(o->args == std::vector<std::string>{"foo.ko"});
    CHECK(o->json == JsonMode::shortform);
    CHECK(o->quiet);
    CHECK(*o->retries == 3);

    std::vector<std::string> b = {"install", "-k", "6.1.0-54-amd64", "x.ko", "--retries=0"};
    auto p = parse_args(b);
    REQUIRE(p);
    CHECK(p->kernel_release == "6.1.0-54-amd64");
    CHECK(*p->retries == 0);
}

TEST_CASE("bad options are usage errors", "[cli]")
{
    for (std::vector<std::string> a : std::vector<std::vector<std::string>>{
             {"--retries"}, {"--retries", "x"}, {"--retries=-1"}, {"--json=yaml"}, {"--frobnicate"}, {"-k", "../x"}}) {
        auto o = parse_args(a);
        REQUIRE_FALSE(o);
        CHECK(o.error().code == loader::kUsage);
    }
}

TEST_CASE("an unknown verb suggests the closest one", "[cli]")
{
    TempTree t;
    auto r = run_ctl(t, {"lsit"});
    CHECK(r.code == 2);
    CHECK(r.err == "kpatchctl: unknown verb 'lsit', did you mean 'list'?\n");
    CHECK(suggest_verb("instal") == "install");
    CHECK(suggest_verb("xyzzy").empty());
    CHECK(run_ctl(t, {}).code == 2);
}

TEST_CASE("every verb has --help", "[cli]")
{
    TempTree t;
    for (const auto &v : verbs()) {
        auto r = run_ctl(t, {std::string(v.name), "--help"});
        CHECK(r.code == 0);
        CHECK_THAT(r.out, Catch::StartsWith("Usage: kpatchctl [OPTIONS] " + std::string(v.name)));
    }
    CHECK(run_ctl(t, {"--help"}).code == 0);
}

TEST_CASE("argument counts are checked per verb", "[cli]")
{
    TempTree t;
    CHECK(run_ctl(t, {"load"}).code == 2);
    CHECK(run_ctl(t, {"load", "a", "b"}).code == 2);
    CHECK(run_ctl(t, {"unload"}).code == 2);
    CHECK(run_ctl(t, {"unload", "x", "--all"}).code == 2);
    CHECK(run_ctl(t, {"list", "--all"}).code == 2);
    CHECK(run_ctl(t, {"list", "-k", "6.1"}).code == 2);
    CHECK(run_ctl(t, {"unload", "--all"}).code == 0);
}

TEST_CASE("exit codes: not found 3, refused 4", "[cli]")
{
    TempTree t;
    auto nf = run_ctl(t, {"unload", "kpatch_x"});
    CHECK(nf.code == 3);
    CHECK(nf.err == "Failed to unload 'kpatch_x': not loaded\n");
    auto notmod = run_ctl(t, {"load", t.write("junk.ko", "junk").string()});
    CHECK(notmod.code == 4);
    CHECK_THAT(notmod.err, Catch::Contains("not a kernel module"));
    auto old = run_ctl(t, {"verify", t.fixture("kpatch-old.ko").string()});
    CHECK(old.code == 4);
    CHECK_THAT(old.out, Catch::Contains("would not load"));
}

TEST_CASE("--json prints results and errors as objects", "[cli][json]")
{
    TempTree t;
    auto ok = run_ctl(t, {"--json=short", "list"});
    CHECK(ok.code == 0);
    auto j = nlohmann::json::parse(ok.out);
    CHECK(j["patches"].is_array());
    CHECK(j["kernel_release"] == test::kRelease);

    auto bad = run_ctl(t, {"--json", "unload", "nope"});
    CHECK(bad.code == 3);
    auto e = nlohmann::json::parse(bad.out);
    CHECK(e["error"] == "Failed to unload 'nope': not loaded");
    CHECK(e["exit_code"] == 3);

    auto info = run_ctl(t, {"--json", "info", t.fixture("kpatch-good.ko").string()});
    REQUIRE(info.code == 0);
    auto i = nlohmann::json::parse(info.out);
    for (auto key : {"path", "name", "vermagic", "kernel_release", "build_id", "patch_sha256", "signed", "has_manifest",
                     "replaced", "new", "modinfo"})
        CHECK(i.contains(key));
    CHECK(i["replaced"][1]["sympos"] == 2);
}

TEST_CASE("info shows the functions the patch's author reviewed, and why", "[cli][json]")
{
    TempTree t;
    auto text = run_ctl(t, {"info", t.fixture("kpatch-good.ko").string()});
    REQUIRE(text.code == 0);
    CHECK_THAT(text.out, Catch::Contains("Reviewed:       s_show: no old object reaches it (1 refusal waived)"));
    CHECK_THAT(text.out, !Catch::Contains("seq_file"));
    auto verbose = run_ctl(t, {"-v", "info", t.fixture("kpatch-good.ko").string()});
    CHECK_THAT(verbose.out, Catch::Contains("waived:       struct `seq_file` changed its layout"));
    auto json = run_ctl(t, {"--json", "info", t.fixture("kpatch-good.ko").string()});
    REQUIRE(json.code == 0);
    auto i = nlohmann::json::parse(json.out);
    REQUIRE(i["reviewed"].size() == 1);
    CHECK(i["reviewed"][0]["function"] == "s_show");
    CHECK(i["reviewed"][0]["reason"] == "no old object reaches it");
    CHECK(i["reviewed"][0]["waived"][0] == "struct `seq_file` changed its layout");
}

TEST_CASE("-q silences success output", "[cli]")
{
    TempTree t;
    auto r = run_ctl(t, {"-q", "list"});
    CHECK(r.code == 0);
    CHECK(r.out.empty());
}
