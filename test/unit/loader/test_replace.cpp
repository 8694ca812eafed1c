// Unit tests: cumulative patches in the store and the boot pass (licence: GPL-2.0-only).
#include "tree.hpp"

#include "../../../loader/src/install_order.hpp"

#include <kpatch/loader/ops.hpp>
#include <kpatch/loader/store.hpp>

#include <catch2/catch.hpp>

#include <fcntl.h>

using namespace kpatch;
using namespace kpatch::loader;
using kpatch::test::FakeKernel;
using kpatch::test::TempTree;
namespace fs = std::filesystem;
using Names = std::vector<std::string>;

TEST_CASE("a cumulative install drops what was installed before it, nothing else", "[replace][store]")
{
    Names removed;
    CHECK(detail::order_after_install({"a", "b"}, "c", false, removed) == Names{"a", "b", "c"});
    CHECK(detail::order_after_install({"a", "b"}, "a", false, removed) == Names{"a", "b"});
    CHECK(removed.empty());
    CHECK(detail::order_after_install({"a", "b"}, "c", true, removed) == Names{"c"});
    CHECK(removed == Names{"a", "b"});
    // A reinstall of a cumulative patch keeps what was installed after it, after it.
    CHECK(detail::order_after_install({"a", "c", "d"}, "c", true, removed) == Names{"c", "d"});
    CHECK(removed == Names{"a"});
    CHECK(detail::order_after_install({}, "c", true, removed) == Names{"c"});
    CHECK(removed.empty());
}

TEST_CASE("the boot pass starts at the newest cumulative patch", "[replace][boot]")
{
    CHECK(detail::boot_start({}) == 0);
    CHECK(detail::boot_start({false, false}) == 0);
    CHECK(detail::boot_start({false, true, false}) == 1);
    CHECK(detail::boot_start({true, false, true, false}) == 2);
}

namespace {

Names listed(const Store &s, Names *missing = nullptr)
{
    Names out;
    auto l = s.list(test::kRelease, missing);
    REQUIRE(l);
    for (const auto &p : *l)
        out.push_back(p.name);
    return out;
}

const char *const kSteps[] = {"temp-written:kpatch_cumulative.ko", "renamed:kpatch_cumulative.ko", "temp-written:order",
                              "renamed:order", "removed-replaced", "installed"};

} // namespace

// kill -9 after every durable step of a cumulative install: the old set or the new patch
// stays installed, never neither, and every listed name has its file.
TEST_CASE("a cumulative install killed at every step leaves the old set or the new patch", "[replace][kill]")
{
    for (const char *kill_at : kSteps) {
        INFO("killed after " << kill_at);
        TempTree t;
        {
            Store s(t.root() / "store");
            for (auto [file, name] : {std::pair{"kpatch-good.ko", "kpatch_good"}, {"kpatch-second.ko", "kpatch_second"}}) {
                UniqueFd fd(::open(t.fixture(file).c_str(), O_RDONLY | O_CLOEXEC));
                REQUIRE(s.install(fd.get(), name, test::kRelease));
            }
        }
        fs::path cumulative = t.fixture("kpatch-cumulative.ko");
        REQUIRE(test::killed_at_step(t.root() / "store", kill_at, [&](Store &s) {
            UniqueFd fd(::open(cumulative.c_str(), O_RDONLY | O_CLOEXEC));
            (void)s.install(fd.get(), "kpatch_cumulative", test::kRelease, true);
        }));
        Names missing;
        Store s(t.root() / "store");
        auto now = listed(s, &missing);
        CHECK((now == Names{"kpatch_good", "kpatch_second"} || now == Names{"kpatch_cumulative"}));
        CHECK(missing.empty());
        // Installing again finishes the job.
        UniqueFd fd(::open(cumulative.c_str(), O_RDONLY | O_CLOEXEC));
        Names removed;
        REQUIRE(s.install(fd.get(), "kpatch_cumulative", test::kRelease, true, &removed));
        CHECK(listed(s) == Names{"kpatch_cumulative"});
        CHECK(t.read("store/6.1.0-56-amd64/order") == "kpatch_cumulative\n");
    }
}

TEST_CASE("install of a cumulative patch says what it took out; the boot pass loads from it on", "[replace][boot]")
{
    TempTree t;
    Config c = t.config();
    FakeKernel k(c);
    Context ctx{c, k};
    REQUIRE(install(ctx, t.fixture("kpatch-good.ko").string(), test::kRelease));
    REQUIRE(install(ctx, t.fixture("kpatch-second.ko").string(), test::kRelease));
    auto r = install(ctx, t.fixture("kpatch-cumulative.ko").string(), test::kRelease);
    REQUIRE(r);
    CHECK(r->replaces == Names{"kpatch_good", "kpatch_second"});
    CHECK(r->patch.position == 1);
    fs::path store = c.install_root / test::kRelease;
    CHECK_FALSE(fs::exists(store / "kpatch_good.ko"));
    CHECK_FALSE(fs::exists(store / "kpatch_second.ko"));
    REQUIRE(install(ctx, t.fixture("kpatch-third.ko").string(), test::kRelease));

    // An order file that still lists an older patch before the cumulative one (written by
    // hand, or by an older kpatchctl): the boot pass skips it and says why.
    fs::copy_file(t.fixture("kpatch-good.ko"), store / "kpatch_good.ko");
    t.write(fs::relative(store / "order", t.root()), "kpatch_good\nkpatch_cumulative\nkpatch_third\n");
    auto boot = apply_installed(ctx, false);
    REQUIRE(boot.items.size() == 3);
    CHECK(boot.items[0].result == BootResult::Replaced);
    CHECK_THAT(boot.items[0].error, Catch::Contains("replaced by 'kpatch_cumulative'"));
    CHECK(boot.items[1].result == BootResult::Loaded);
    CHECK(boot.items[2].result == BootResult::Loaded);
    CHECK(k.calls == Names{"modprobe:kpatch", "finit:kpatch_cumulative", "finit:kpatch_third"});
    CHECK(boot.status == "2 of 2 patches loaded (1 replaced by a cumulative patch, not loaded)");
}
