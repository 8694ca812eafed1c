// Unit tests: list, status, verify, kpatchd's boot pass and its record (licence: GPL-2.0-only).
#include "tree.hpp"

#include <kpatch/loader/json.hpp>
#include <kpatch/loader/ops.hpp>

#include <catch2/catch.hpp>

#include <cerrno>

using namespace kpatch;
using namespace kpatch::loader;
using kpatch::test::FakeKernel;
using kpatch::test::TempTree;

TEST_CASE("kernel releases order like sort -V", "[status]")
{
    CHECK(compare_versions("6.1.0-57-amd64", "6.1.0-56-amd64") > 0);
    CHECK(compare_versions("6.1.0-9-amd64", "6.1.0-10-amd64") < 0);
    CHECK(compare_versions("6.1.0-56-amd64", "6.1.0-56-amd64") == 0);
    CHECK(compare_versions("6.10.0", "6.9.9") > 0);
}

TEST_CASE("kpatch.enable=0 on the command line is recognised, the last one wins", "[status]")
{
    TempTree t;
    Config c = t.config();
    t.write("proc/cmdline", "root=/dev/vda kpatch.enable=0 quiet\n");
    CHECK(disabled_on_cmdline(c));
    t.write("proc/cmdline", "kpatch.enable=0 kpatch.enable=1\n");
    CHECK_FALSE(disabled_on_cmdline(c));
    t.write("proc/cmdline", "root=/dev/vda xkpatch.enable=0\n");
    CHECK_FALSE(disabled_on_cmdline(c));
}

TEST_CASE("the boot pass loads in install order, goes on past a failure, and says 2 of 3", "[boot]")
{
    TempTree t;
    Config c = t.config();
    FakeKernel k(c);
    Context ctx{c, k};
    for (auto f : {"kpatch-good.ko", "kpatch-second.ko", "kpatch-third.ko"})
        REQUIRE(install(ctx, t.fixture(f).string(), test::kRelease));
    k.finit_results = {0, ENOENT};  // kpatch_second's function does not exist
    auto r = apply_installed(ctx, disabled_on_cmdline(c));
    CHECK(r.enabled);
    REQUIRE(r.items.size() == 3);
    CHECK(r.items[0].result == BootResult::Loaded);
    CHECK(r.items[1].result == BootResult::Failed);
    CHECK(r.items[2].result == BootResult::Loaded);
    CHECK(k.calls == std::vector<std::string>{"modprobe:kpatch", "finit:kpatch_good", "finit:kpatch_second", "finit:kpatch_third"});
    CHECK_THAT(r.status, Catch::StartsWith("2 of 3 patches loaded; kpatch_second failed: "));

    REQUIRE(write_boot_record(c, r));
    auto back = read_boot_record(c);
    REQUIRE(back);
    CHECK(back->status == r.status);
    CHECK(back->items.size() == 3);

    auto l = list(ctx);
    REQUIRE(l);
    std::map<std::string, std::string> state;
    for (const auto &e : l->patches)
        state[e.name] = std::string(to_string(e.state));
    CHECK(state == std::map<std::string, std::string>{{"kpatch_good", "enabled"}, {"kpatch_second", "failed"}, {"kpatch_third", "enabled"}});

    // A second pass (SIGHUP) does not load anything twice, and does not put kpatch_second on
    // top of the newer kpatch_third: neither says what it replaces, so they may overlap.
    k.calls.clear();
    auto again = apply_installed(ctx, disabled_on_cmdline(c));
    CHECK(again.items[0].result == BootResult::AlreadyLoaded);
    CHECK(again.items[1].result == BootResult::Failed);
    CHECK_THAT(again.items[1].error, Catch::Contains("installed before 'kpatch_third'"));
    CHECK(k.calls.empty());
}

TEST_CASE("kpatch.enable=0 makes the boot pass load nothing and say why", "[boot]")
{
    TempTree t;
    Config c = t.config();
    FakeKernel k(c);
    Context ctx{c, k};
    REQUIRE(install(ctx, t.fixture("kpatch-good.ko").string(), test::kRelease));
    t.write("proc/cmdline", "kpatch.enable=0\n");
    auto r = apply_installed(ctx, disabled_on_cmdline(c));
    CHECK_FALSE(r.enabled);
    CHECK(r.items.empty());
    CHECK(k.calls.empty());
    CHECK(r.status == "kpatch.enable=0 on the kernel command line: no patches loaded");
}

TEST_CASE("status names a newer installed kernel and what kpatchd did", "[status]")
{
    TempTree t;
    Config c = t.config();
    FakeKernel k(c);
    Context ctx{c, k};
    t.write("lib/modules/6.1.0-56-amd64/modules.dep", "");
    t.write("lib/modules/6.1.0-57-amd64/modules.dep", "");
    t.write("lib/modules/6.1.0-99-amd64/leftover", "");
    REQUIRE(install(ctx, t.fixture("kpatch-good.ko").string(), test::kRelease));
    auto s = status(ctx);
    REQUIRE(s);
    CHECK(s->newer_kernels == std::vector<std::string>{"6.1.0-57-amd64"});
    auto has = [&](const std::string &needle) {
        return std::any_of(s->notes.begin(), s->notes.end(), [&](const std::string &n) { return n.find(needle) != std::string::npos; });
    };
    CHECK(has("kpatchd has not recorded"));
    CHECK(has("kpatch_good is installed but not loaded"));
    CHECK(has("kernel 6.1.0-57-amd64 is installed and newer than the running 6.1.0-56-amd64"));

    nlohmann::json j = *s;
    for (auto key : {"kernel_release", "build_id", "core_loaded", "patches", "kpatchd", "newer_kernels", "notes"})
        CHECK(j.contains(key));
}

TEST_CASE("verify checks release, build id, symbols and ftrace locations, changing nothing", "[verify]")
{
    TempTree t;
    Config c = t.config();
    FakeKernel k(c);
    Context ctx{c, k};
    t.write("proc/kallsyms", "ffffffff81000000 T cmdline_proc_show\nffffffff81000100 t s_show\nffffffff81000200 t s_show\n"
                             "ffffffffc0000000 t s_show [ext4]\n");
    t.write("sys/kernel/tracing/available_filter_functions", "cmdline_proc_show\ns_show\ns_show\n");

    auto good = verify(ctx, t.fixture("kpatch-good.ko").string());
    REQUIRE(good);
    CHECK(good->ok());
    CHECK(k.calls.empty());
    nlohmann::json j = *good;
    CHECK(j["ok"] == true);
    CHECK(j["checks"][0].contains("check"));
    CHECK(j["checks"][0].contains("result"));
    CHECK(j["checks"][0].contains("detail"));

    t.write("proc/kallsyms", "ffffffff81000000 T cmdline_proc_show\nffffffff81000100 t s_show\n");
    auto bad = verify(ctx, t.fixture("kpatch-good.ko").string());
    REQUIRE(bad);
    CHECK_FALSE(bad->ok());
    auto find = [&](const std::string &name) {
        for (const auto &ch : bad->checks)
            if (ch.name == name)
                return ch;
        return Check{};
    };
    CHECK(find("function:s_show").result == CheckResult::Fail);
    CHECK_THAT(find("function:s_show").detail, Catch::Contains("position 2"));
    CHECK(find("function:cmdline_proc_show").result == CheckResult::Pass);

    auto old = verify(ctx, t.fixture("kpatch-old.ko").string());
    REQUIRE(old);
    CHECK_FALSE(old->ok());
}

TEST_CASE("list JSON has stable keys", "[json]")
{
    TempTree t;
    Config c = t.config();
    FakeKernel k(c);
    Context ctx{c, k};
    test::add_sysfs_patch(c, "kpatch_a", true, 2);
    nlohmann::json j = *list(ctx);
    CHECK(j["kernel_release"] == test::kRelease);
    CHECK(j["core_loaded"] == true);
    REQUIRE(j["patches"].size() == 1);
    auto p = j["patches"][0];
    for (auto key : {"name", "state", "kernel_release", "loaded", "installed", "order", "install_position", "functions", "error"})
        CHECK(p.contains(key));
    CHECK(p["functions"][0]["name"] == "cmdline_proc_show");
    CHECK(p["functions"][0]["active"] == true);
}
