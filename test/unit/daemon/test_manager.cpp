// Unit tests: kpatchd's manager and options (licence: GPL-2.0-only).
#include "../loader/tree.hpp"

#include <manager.hpp>
#include <options.hpp>

#include <catch2/catch.hpp>
#include <spdlog/sinks/ostream_sink.h>

#include <cerrno>
#include <sstream>

using namespace kpatch;
using kpatch::test::FakeKernel;
using kpatch::test::TempTree;

namespace {

struct Captured {
    std::ostringstream text;
    std::shared_ptr<spdlog::sinks::ostream_sink_mt> sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(text);
    Captured() { sink->set_pattern("%n|%l|%v"); }
};

} // namespace

TEST_CASE("the boot pass logs each patch under its own name and reports 2 of 3", "[daemon]")
{
    TempTree t;
    loader::Config c = t.config();
    FakeKernel k(c);
    loader::Context ctx{c, k};
    for (auto f : {"kpatch-good.ko", "kpatch-second.ko", "kpatch-third.ko"})
        REQUIRE(loader::install(ctx, t.fixture(f).string(), test::kRelease));
    k.finit_results = {0, ENOENT};
    Captured cap;
    daemon::Manager m(ctx, {cap.sink});
    std::string status = m.boot_pass();
    CHECK_THAT(status, Catch::StartsWith("2 of 3 patches loaded; kpatch_second failed: "));
    std::string log = cap.text.str();
    CHECK_THAT(log, Catch::Contains("kpatch_good|info|Loaded patch 'kpatch_good'"));
    CHECK_THAT(log, Catch::Contains("kpatch_second|error|Failed to load 'kpatch_second'"));
    CHECK_THAT(log, Catch::Contains("kpatchd|warning|2 of 3 patches loaded"));
    auto record = loader::read_boot_record(c);
    REQUIRE(record);
    CHECK(record->status == status);

    // SIGHUP: the broken one is not loaded on top of the newer kpatch_third (neither has a
    // manifest, so they may replace the same function); once kpatch_third is unloaded, the
    // next SIGHUP loads both in installation order.
    k.calls.clear();
    status = m.reconcile();
    CHECK(k.calls.empty());
    CHECK_THAT(status, Catch::Contains("kpatch_second failed: ") && Catch::Contains("installed before 'kpatch_third'"));
    REQUIRE(loader::unload(ctx, "kpatch_third"));
    k.calls.clear();
    status = m.reconcile();
    CHECK(k.calls == std::vector<std::string>{"finit:kpatch_second", "finit:kpatch_third"});
    CHECK(status == "3 of 3 patches loaded");
}

TEST_CASE("kpatch.enable=0 loads nothing and says so", "[daemon]")
{
    TempTree t;
    loader::Config c = t.config();
    t.write("proc/cmdline", "root=/dev/vda kpatch.enable=0\n");
    FakeKernel k(c);
    loader::Context ctx{c, k};
    REQUIRE(loader::install(ctx, t.fixture("kpatch-good.ko").string(), test::kRelease));
    Captured cap;
    daemon::Manager m(ctx, {cap.sink});
    CHECK(m.boot_pass() == "kpatch.enable=0 on the kernel command line: no patches loaded");
    CHECK(k.calls.empty());
    CHECK_THAT(cap.text.str(), Catch::Contains("kpatchd|warning|kpatch.enable=0 on the kernel command line"));
    CHECK_FALSE(loader::read_boot_record(c)->enabled);
}

TEST_CASE("kpatchd options", "[daemon]")
{
    std::vector<std::string> a = {"-v", "--once", "--log-target=console"};
    auto o = daemon::parse_options(a);
    REQUIRE(o);
    CHECK(o->verbose);
    CHECK(o->once);
    CHECK(o->log_target == daemon::LogTarget::console);
    CHECK(o->nudge);  // on unless --no-nudge
    std::vector<std::string> off = {"--no-nudge"};
    auto n = daemon::parse_options(off);
    REQUIRE(n);
    CHECK_FALSE(n->nudge);
    std::vector<std::string> bad = {"--bogus"};
    auto b = daemon::parse_options(bad);
    REQUIRE_FALSE(b);
    CHECK(b.error().code == 2);
}
