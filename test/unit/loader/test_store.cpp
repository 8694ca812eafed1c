// Unit tests: the install store is atomic and keeps the installation order (licence: GPL-2.0-only).
#include "tree.hpp"

#include <kpatch/loader/ops.hpp>
#include <kpatch/loader/store.hpp>

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <set>

using namespace kpatch;
using namespace kpatch::loader;
using kpatch::test::TempTree;
namespace fs = std::filesystem;

namespace {

std::vector<std::string> names(const Store &s)
{
    std::vector<std::string> out;
    auto listed = s.list(test::kRelease);
    REQUIRE(listed);
    for (const auto &p : *listed)
        out.push_back(p.name);
    return out;
}

int open_ro(const fs::path &p)
{
    return ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
}

} // namespace

TEST_CASE("install records the order and reinstall keeps the position", "[store]")
{
    TempTree t;
    Store s(t.root() / "store");
    auto a = t.fixture("kpatch-good.ko"), b = t.fixture("kpatch-plain.ko");
    UniqueFd fa(open_ro(a)), fb(open_ro(b));
    REQUIRE(s.install(fa.get(), "kpatch_good", test::kRelease));
    REQUIRE(s.install(fb.get(), "kpatch_plain", test::kRelease));
    CHECK(names(s) == std::vector<std::string>{"kpatch_good", "kpatch_plain"});
    REQUIRE(s.install(fa.get(), "kpatch_good", test::kRelease));
    CHECK(names(s) == std::vector<std::string>{"kpatch_good", "kpatch_plain"});
    CHECK(t.read("store/6.1.0-56-amd64/order") == "kpatch_good\nkpatch_plain\n");
    CHECK(fs::file_size(t.root() / "store/6.1.0-56-amd64/kpatch_good.ko") == fs::file_size(a));
    CHECK((fs::status(t.root() / "store/6.1.0-56-amd64/kpatch_good.ko").permissions() & fs::perms::all) ==
          (fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read | fs::perms::others_read));

    REQUIRE(s.uninstall("kpatch-good", test::kRelease));
    CHECK(names(s) == std::vector<std::string>{"kpatch_plain"});
    CHECK_FALSE(fs::exists(t.root() / "store/6.1.0-56-amd64/kpatch_good.ko"));
    auto again = s.uninstall("kpatch_good", test::kRelease);
    REQUIRE_FALSE(again);
    CHECK(again.error().code == kNotFound);
    CHECK(*s.releases() == std::vector<std::string>{test::kRelease});
}

TEST_CASE("names that are not module names are refused", "[store]")
{
    CHECK(valid_patch_name("kpatch_foo-2"));
    CHECK_FALSE(valid_patch_name(""));
    CHECK_FALSE(valid_patch_name("../etc"));
    CHECK_FALSE(valid_patch_name("order"));
    CHECK_FALSE(valid_patch_name(std::string(56, 'a')));
}

TEST_CASE("a file not listed in the order file is not installed", "[store]")
{
    TempTree t;
    Store s(t.root() / "store");
    t.write("store/6.1.0-56-amd64/stray.ko", "x");
    t.write("store/6.1.0-56-amd64/.kpatch_good.ko.tmp-1", "partial");
    CHECK(names(s).empty());
}

namespace {

// A child installs and SIGKILLs itself after step KILL_AT; the parent then must see the old
// or the new state, never a mix, and the next install must still work.
void check_install_killed(bool reinstall, const std::string &kill_at)
{
    INFO((reinstall ? "reinstall" : "install") << " killed after " << kill_at);
    TempTree t;
    auto first = t.fixture("kpatch-good.ko"), second = t.fixture("kpatch-plain.ko");
    {
        Store s(t.root() / "store");
        UniqueFd fd(open_ro(first));
        REQUIRE(s.install(fd.get(), "kpatch_good", test::kRelease));
        if (reinstall) {
            UniqueFd fd2(open_ro(second));
            REQUIRE(s.install(fd2.get(), "kpatch_plain", test::kRelease));
        }
    }
    std::string before = t.read("store/6.1.0-56-amd64/order");
    REQUIRE(test::killed_at_step(t.root() / "store", kill_at, [&](Store &s) {
        // A reinstall puts other bytes under the same name.
        UniqueFd fd(open_ro(reinstall ? first : second));
        (void)s.install(fd.get(), "kpatch_plain", test::kRelease);
    }));

    Store s(t.root() / "store");
    auto listed = names(s);
    std::string after = t.read("store/6.1.0-56-amd64/order");
    CHECK((after == before || after == "kpatch_good\nkpatch_plain\n"));
    if (listed.size() == 2) {
        auto size = fs::file_size(t.root() / "store/6.1.0-56-amd64/kpatch_plain.ko");
        CHECK((size == fs::file_size(first) || size == fs::file_size(second)));
    } else {
        CHECK(listed == std::vector<std::string>{"kpatch_good"});
    }
    UniqueFd fd(open_ro(second));
    REQUIRE(s.install(fd.get(), "kpatch_plain", test::kRelease));
    CHECK(names(s) == std::vector<std::string>{"kpatch_good", "kpatch_plain"});
    for (const auto &e : fs::directory_iterator(t.root() / "store/6.1.0-56-amd64"))
        CHECK(e.path().filename().string().find(".tmp-") == std::string::npos);
}

} // namespace

// "A kill -9 at any moment leaves the previous state intact", after every durable step.
TEST_CASE("install killed at every step leaves the previous or the new state", "[store][kill]")
{
    for (const char *step : {"temp-written:kpatch_plain.ko", "renamed:kpatch_plain.ko", "temp-written:order",
                             "renamed:order", "installed"})
        check_install_killed(false, step);
    for (const char *step : {"temp-written:kpatch_plain.ko", "renamed:kpatch_plain.ko", "installed"})
        check_install_killed(true, step);
}

TEST_CASE("uninstall killed after unlisting leaves the patch uninstalled", "[store][kill]")
{
    TempTree t;
    {
        Store s(t.root() / "store");
        UniqueFd fd(open_ro(t.fixture("kpatch-good.ko")));
        REQUIRE(s.install(fd.get(), "kpatch_good", test::kRelease));
    }
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        Store s(t.root() / "store", [](std::string_view step) {
            if (step == "unlisted")
                ::kill(::getpid(), SIGKILL);
        });
        (void)s.uninstall("kpatch_good", test::kRelease);
        ::_exit(0);
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    REQUIRE(WIFSIGNALED(status));
    CHECK(names(Store(t.root() / "store")).empty());
}

TEST_CASE("install through the library checks the file and the kernel release", "[store][install]")
{
    TempTree t;
    Config c = t.config();
    test::FakeKernel k(c);
    Context ctx{c, k};

    auto wrong = install(ctx, t.fixture("kpatch-old.ko").string(), test::kRelease);
    REQUIRE_FALSE(wrong);
    CHECK(wrong.error().code == kRefused);
    CHECK_THAT(wrong.error().message, Catch::Contains("built for kernel 6.1.0-54-amd64") && Catch::Contains("-k 6.1.0-54-amd64"));

    auto other = install(ctx, t.fixture("kpatch-old.ko").string(), "6.1.0-54-amd64");
    REQUIRE(other);
    CHECK(other->patch.kernel_release == "6.1.0-54-amd64");

    auto unsafe = t.fixture("kpatch-good.ko");
    ::chmod(unsafe.c_str(), 0666);
    auto r = install(ctx, unsafe.string(), test::kRelease);
    REQUIRE_FALSE(r);
    CHECK_THAT(r.error().message, Catch::StartsWith("Failed to install '") && Catch::Contains("writable"));

    ::chmod(unsafe.c_str(), 0644);
    auto ok = install(ctx, unsafe.string(), test::kRelease);
    REQUIRE(ok);
    CHECK(ok->patch.name == "kpatch_good");
    CHECK_FALSE(ok->replaced);
    CHECK(install(ctx, unsafe.string(), test::kRelease)->replaced);

    auto un = uninstall(ctx, "kpatch_good", test::kRelease);
    REQUIRE(un);
    auto none = uninstall(ctx, "kpatch_good", test::kRelease);
    REQUIRE_FALSE(none);
    CHECK(none.error().message == "Failed to uninstall 'kpatch_good': not installed for 6.1.0-56-amd64 (" +
                                  (c.install_root / test::kRelease / "order").string() + " does not list it)");
}
