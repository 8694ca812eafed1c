// Unit tests: load with busy retries and unload, against a fake kernel and sysfs (licence: GPL-2.0-only).
#include "tree.hpp"

#include <kpatch/loader/lock.hpp>
#include <kpatch/loader/ops.hpp>

#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <thread>

using namespace kpatch;
using namespace kpatch::loader;
using kpatch::test::FakeKernel;
using kpatch::test::TempTree;
namespace fs = std::filesystem;

TEST_CASE("load loads the core module first, then the patch", "[load]")
{
    TempTree t;
    Config c = t.config();
    FakeKernel k(c);
    Context ctx{c, k};
    auto r = load(ctx, t.fixture("kpatch-good.ko").string());
    REQUIRE(r);
    CHECK(r->name == "kpatch_good");
    CHECK(r->core_loaded);
    CHECK(r->attempts == 1);
    CHECK(k.calls == std::vector<std::string>{"modprobe:kpatch", "finit:kpatch_good"});
    CHECK(read_patch(c, "kpatch_good")->enabled);
}

TEST_CASE("a configured core module path is used instead of modprobe", "[load]")
{
    TempTree t;
    Config c = t.config();
    c.core_module = t.fixture("kpatch.ko").string();
    FakeKernel k(c);
    Context ctx{c, k};
    REQUIRE(load(ctx, t.fixture("kpatch-good.ko").string()));
    CHECK(k.calls == std::vector<std::string>{"finit:kpatch", "finit:kpatch_good"});
}

TEST_CASE("no core module anywhere is a clear error", "[load]")
{
    TempTree t;
    Config c = t.config();
    FakeKernel k(c);
    k.modprobe_works = false;
    Context ctx{c, k};
    auto r = load(ctx, t.fixture("kpatch-good.ko").string());
    REQUIRE_FALSE(r);
    CHECK_THAT(r.error().message, Catch::StartsWith("Failed to load core module 'kpatch': modprobe kpatch failed") &&
                                      Catch::Contains("extra/kpatch.ko"));
}

TEST_CASE("a busy patch is retried, then refused naming task and function", "[load][busy]")
{
    TempTree t;
    Config c = t.config();
    c.retries = 3;
    FakeKernel k(c);
    k.finit_results = {EBUSY, EBUSY, EBUSY, EBUSY};
    k.busy_error = "kpatch_good enable EBUSY: cmdline_proc_show is in use by cat/42";
    std::vector<std::string> notes;
    Context ctx{c, k, [&](std::string_view s) { notes.emplace_back(s); }};
    auto r = load(ctx, t.fixture("kpatch-good.ko").string());
    REQUIRE_FALSE(r);
    CHECK(r.error().code == kBusy);
    CHECK(r.error().message == "Failed to load 'kpatch_good': a function it replaces stayed in use through 4 attempts: "
                               "cmdline_proc_show is in use by cat/42 (EBUSY)");
    CHECK(k.sleeps == 3);
    REQUIRE(notes.size() == 3);
    CHECK_THAT(notes[0], Catch::Contains("retrying") && Catch::Contains("attempt 2 of 4"));
}

TEST_CASE("a busy patch that frees up within the retries loads", "[load][busy]")
{
    TempTree t;
    Config c = t.config();
    FakeKernel k(c);
    k.finit_results = {EBUSY, EBUSY};
    Context ctx{c, k};
    auto r = load(ctx, t.fixture("kpatch-good.ko").string());
    REQUIRE(r);
    CHECK(r->attempts == 3);
    CHECK(k.sleeps == 2);
}

TEST_CASE("--retries 0 means one attempt", "[load][busy]")
{
    TempTree t;
    Config c = t.config();
    c.retries = 0;
    c.core_module = t.fixture("kpatch.ko").string();
    FakeKernel k(c);
    k.finit_results = {0, EBUSY};
    Context ctx{c, k};
    auto r = load(ctx, t.fixture("kpatch-good.ko").string());
    REQUIRE_FALSE(r);
    CHECK(k.sleeps == 0);
}

TEST_CASE("a module for another kernel is refused before the kernel sees it", "[load]")
{
    TempTree t;
    Config c = t.config();
    FakeKernel k(c);
    Context ctx{c, k};
    auto r = load(ctx, t.fixture("kpatch-old.ko").string());
    REQUIRE_FALSE(r);
    CHECK(r.error().code == kRefused);
    CHECK_THAT(r.error().message, Catch::Contains("built for kernel 6.1.0-54-amd64") && Catch::Contains("this is 6.1.0-56-amd64"));
    CHECK(k.calls.empty());
}

TEST_CASE("a module for another build of this kernel is refused by build id", "[load]")
{
    TempTree t;
    Config c = t.config();
    // A GNU build-id note: namesz 4, descsz 4, type 3, "GNU\0", 4 bytes.
    std::string note("\x04\0\0\0\x04\0\0\0\x03\0\0\0GNU\0\xde\xad\xbe\xef", 20);
    t.write("sys/kernel/notes", note);
    CHECK(running_build_id(c) == "deadbeef");
    FakeKernel k(c);
    Context ctx{c, k};
    auto r = load(ctx, t.fixture("kpatch-good.ko").string());
    REQUIRE_FALSE(r);
    CHECK_THAT(r.error().message, Catch::Contains("build id 0123abcd") && Catch::Contains("deadbeef"));
}

TEST_CASE("load by installed name; unknown names and missing files say so", "[load]")
{
    TempTree t;
    Config c = t.config();
    FakeKernel k(c);
    Context ctx{c, k};
    auto missing = load(ctx, "kpatch_good");
    REQUIRE_FALSE(missing);
    CHECK(missing.error().code == kNotFound);
    CHECK_THAT(missing.error().message, Catch::Contains("not installed for 6.1.0-56-amd64"));
    auto nofile = load(ctx, (t.root() / "nope.ko").string());
    REQUIRE_FALSE(nofile);
    CHECK(nofile.error().code == kNotFound);

    REQUIRE(install(ctx, t.fixture("kpatch-good.ko").string(), test::kRelease));
    auto r = load(ctx, "kpatch-good");
    REQUIRE(r);
    CHECK_THAT(r->path, Catch::EndsWith("var/lib/kpatch/6.1.0-56-amd64/kpatch_good.ko"));
    auto twice = load(ctx, "kpatch_good");
    REQUIRE_FALSE(twice);
    CHECK_THAT(twice.error().message, Catch::Contains("already loaded"));
}

TEST_CASE("unload disables, then removes the module; not loaded is NotFound", "[unload]")
{
    TempTree t;
    Config c = t.config();
    FakeKernel k(c);
    Context ctx{c, k};
    test::add_sysfs_patch(c, "kpatch_a", true, 1);
    auto r = unload(ctx, "kpatch-a");
    REQUIRE(r);
    CHECK(k.calls == std::vector<std::string>{"delete:kpatch_a"});
    CHECK_FALSE(read_patch(c, "kpatch_a"));

    auto again = unload(ctx, "kpatch_a");
    REQUIRE_FALSE(again);
    CHECK(again.error().code == kNotFound);
    CHECK(again.error().message == "Failed to unload 'kpatch_a': not loaded");

    fs::create_directories(c.sys_module_root / "ext4");
    auto other = unload(ctx, "ext4");
    REQUIRE_FALSE(other);
    CHECK_THAT(other.error().message, Catch::Contains("not a kpatch patch"));
}

TEST_CASE("unload --all goes newest first", "[unload]")
{
    TempTree t;
    Config c = t.config();
    FakeKernel k(c);
    Context ctx{c, k};
    test::add_sysfs_patch(c, "kpatch_old", true, 1);
    test::add_sysfs_patch(c, "kpatch_new", true, 5);
    test::add_sysfs_patch(c, "kpatch_mid", false, 3);
    auto r = unload_all(ctx);
    REQUIRE(r);
    CHECK(k.calls == std::vector<std::string>{"delete:kpatch_new", "delete:kpatch_mid", "delete:kpatch_old"});
    CHECK(read_patches(c)->empty());
}

TEST_CASE("a second caller waits for the change lock and names the holder", "[lock]")
{
    TempTree t;
    Config c = t.config();
    int ready[2];
    REQUIRE(::pipe(ready) == 0);
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        auto lock = ChangeLock::acquire(c.lock_path(), {});
        char x = 1;
        (void)!::write(ready[1], &x, 1);
        ::usleep(300 * 1000);
        ::_exit(lock ? 0 : 1);
    }
    char x;
    REQUIRE(::read(ready[0], &x, 1) == 1);
    std::string note;
    auto lock = ChangeLock::acquire(c.lock_path(), [&](std::string_view s) { note = s; });
    REQUIRE(lock);
    CHECK_THAT(note, Catch::Contains("Waiting for") && Catch::Contains(std::to_string(pid)));
    int status;
    ::waitpid(pid, &status, 0);
    CHECK(WEXITSTATUS(status) == 0);
    ::close(ready[0]);
    ::close(ready[1]);
}

TEST_CASE("unload --all goes on past a failure and reports the first", "[unload]")
{
    TempTree t;
    Config c = t.config();
    FakeKernel k(c);
    k.delete_fails = {"kpatch_new"};
    Context ctx{c, k};
    test::add_sysfs_patch(c, "kpatch_old", true, 1);
    test::add_sysfs_patch(c, "kpatch_new", true, 2);
    auto r = unload_all(ctx);
    REQUIRE(r);
    REQUIRE(r->error);
    CHECK_THAT(r->error->message, Catch::StartsWith("Failed to unload 'kpatch_new'"));
    REQUIRE(r->items.size() == 2);
    CHECK_FALSE(r->items[0].ok);
    CHECK(r->items[1].ok);
    CHECK(k.calls == std::vector<std::string>{"delete:kpatch_new", "delete:kpatch_old"});
}

TEST_CASE("load reports the tasks the core nudged; --no-nudge turns the core's switch off for the load only", "[load][nudge]")
{
    TempTree t;
    Config c = t.config();
    FakeKernel k(c);
    Context ctx{c, k};
    t.write("sys/module/kpatch/parameters/nudge", "Y\n");
    k.nudged = "kpatch_good enable init/1\nkpatch_good enable sh/42\nother_patch enable cat/7\n";
    SECTION("on by default: the switch is left as it is, the nudged tasks of this patch are reported")
    {
        auto r = load(ctx, t.fixture("kpatch-good.ko").string());
        REQUIRE(r);
        CHECK(r->nudged == std::vector<std::string>{"init/1", "sh/42"});
        CHECK(k.nudge_param_seen == std::vector<std::string>{"Y"});
    }
    SECTION("--no-nudge: N during the load, Y again after")
    {
        ctx.config.nudge = false;
        REQUIRE(load(ctx, t.fixture("kpatch-good.ko").string()));
        CHECK(k.nudge_param_seen == std::vector<std::string>{"N"});
        CHECK(t.read("sys/module/kpatch/parameters/nudge").starts_with("Y"));
    }
}
