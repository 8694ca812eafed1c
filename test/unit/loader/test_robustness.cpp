// Unit tests: foreign data (manifests, the store, kpatchd's record, sysfs text) gives errors, not
// exceptions; install order holds on reconcile; the core gets the patch checks (licence: GPL-2.0-only).
#include "tree.hpp"

#include <kpatch/json_field.hpp>
#include <kpatch/loader/json.hpp>
#include <kpatch/loader/lock.hpp>
#include <kpatch/loader/ops.hpp>
#include <kpatch/loader/sysfs.hpp>

#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>

using namespace kpatch;
using namespace kpatch::loader;
using kpatch::test::FakeKernel;
using kpatch::test::TempTree;
namespace fs = std::filesystem;

namespace {

std::string manifest_error(const std::string &json)
{
    ModuleInfo info;
    auto r = apply_manifest(info, json);
    REQUIRE_FALSE(r);
    CHECK_FALSE(info.has_manifest);  // nothing half-applied
    return r.error().message;
}

std::vector<std::string> names_of(const BootRecord &r, BootResult result)
{
    std::vector<std::string> out;
    for (const auto &i : r.items)
        if (i.result == result)
            out.push_back(i.name);
    return out;
}

} // namespace

TEST_CASE("a manifest with wrong JSON types is an error naming the key, never an exception", "[manifest]")
{
    CHECK_THAT(manifest_error(R"({"replaced":[{"name":"f","sympos":"2"}]})"),
               Catch::Contains("\"replaced\"[0]") && Catch::Contains("key \"sympos\" is a string, expected a number"));
    CHECK_THAT(manifest_error(R"({"replaced":[{"name":"f","sympos":null}]})"), Catch::Contains("\"sympos\" is a null"));
    CHECK_THAT(manifest_error(R"({"replaced":[{"name":"f","sympos":-1}]})"), Catch::Contains("negative number"));
    CHECK_THAT(manifest_error(R"({"replaced":[{"name":"f","sympos":1.5}]})"), Catch::Contains("\"sympos\""));
    CHECK_THAT(manifest_error(R"({"replaced":{"name":"f"}})"), Catch::Contains("\"replaced\" is an object, expected an array"));
    CHECK_THAT(manifest_error(R"({"replaced":[7]})"), Catch::Contains("expected a JSON object"));
    CHECK_THAT(manifest_error(R"({"replaced":[{"sympos":0}]})"), Catch::Contains("has no name"));
    CHECK_THAT(manifest_error(R"({"kernel_release":null})"), Catch::Contains("\"kernel_release\" is a null"));
    CHECK_THAT(manifest_error(R"({"build_id":12})"), Catch::Contains("\"build_id\""));
    CHECK_THAT(manifest_error(R"({"new":[{"name":false}]})"), Catch::Contains("\"new\"[0]"));
    CHECK_THAT(manifest_error(R"({"reviewed":[{"function":"f","waived":[1]}]})"), Catch::Contains("waived"));
    CHECK_THAT(manifest_error(R"({"hooks":{"pre_patch":3}})"), Catch::Contains("hooks.pre_patch"));
    CHECK_THAT(manifest_error(R"({"hooks":[]})"), Catch::Contains("\"hooks\" is an array"));
    CHECK_THAT(manifest_error("[1,2]"), Catch::Contains("expected a JSON object, found an array"));
    CHECK_THAT(manifest_error("{\"a\":\"\xff\"}"), Catch::Contains("not valid JSON"));
    CHECK_THAT(manifest_error(std::string(100000, '[') + std::string(100000, ']')), Catch::Contains("section .kpatch.manifest"));
    CHECK_THAT(manifest_error("{\"x\":\"" + std::string(5 << 20, 'a') + "\"}"), Catch::Contains("more than the"));

    ModuleInfo ok;
    REQUIRE(apply_manifest(ok, R"({"replaced":["f",{"name":"g","sympos":3,"object":"ext4"}],"new":["h",{"name":"i"}],"hooks":{"pre_patch":"p"}})"));
    CHECK(ok.replaced.size() == 2);
    CHECK(ok.replaced[1].sympos == 3);
    CHECK(ok.replaced[1].object == "ext4");
    CHECK(ok.added == std::vector<std::string>{"h", "i"});
}

TEST_CASE("json_field reads each type and refuses the others", "[manifest]")
{
    auto j = nlohmann::json::parse(R"({"s":"x","b":true,"n":5,"neg":-5,"big":18446744073709551615,"null":null})");
    CHECK(*json_field<std::string>(j, "s", "") == "x");
    CHECK(*json_field<std::string>(j, "absent", "d") == "d");
    CHECK(*json_field<bool>(j, "b", false));
    CHECK(*json_field<unsigned long>(j, "n", 0ul) == 5);
    CHECK(*json_field<long>(j, "neg", 0l) == -5);
    CHECK_FALSE(json_field<unsigned long>(j, "neg", 0ul));
    CHECK_FALSE(json_field<long>(j, "big", 0l));
    CHECK_FALSE(json_field<bool>(j, "null", false));
    CHECK_FALSE(json_field<std::string>(nlohmann::json::array(), "s", ""));
}

TEST_CASE("a module with a bad manifest is refused naming the file and the key", "[manifest]")
{
    TempTree t;
    Config c = t.config();
    FakeKernel k(c);
    Context ctx{c, k};
    auto path = t.fixture("kpatch-badjson.ko");
    auto i = info(ctx, path.string());
    REQUIRE_FALSE(i);
    CHECK_THAT(i.error().message, Catch::Contains(path.string()) && Catch::Contains("\"sympos\" is a string"));
    CHECK(i.error().code == kRefused);
    auto v = verify(ctx, path.string());
    REQUIRE_FALSE(v);
    auto l = load(ctx, path.string());
    REQUIRE_FALSE(l);
    CHECK(k.calls.empty());  // the kernel never saw it
}

TEST_CASE("kpatchd records a patch with a bad manifest and loads the others", "[boot]")
{
    TempTree t;
    Config c = t.config();
    FakeKernel k(c);
    Context ctx{c, k};
    for (auto f : {"kpatch-good.ko", "kpatch-badjson.ko", "kpatch-disjoint.ko"})
        REQUIRE(install(ctx, t.fixture(f).string(), test::kRelease).has_value() == (std::string(f) != "kpatch-badjson.ko"));
    // Install refuses the bad one; plant it as if an older kpatchctl had installed it.
    fs::copy_file(t.fixture("kpatch-badjson.ko"), c.install_root / test::kRelease / "kpatch_badjson.ko");
    t.write(fs::path("var/lib/kpatch") / test::kRelease / "order", "kpatch_good\nkpatch_badjson\nkpatch_disjoint\n");
    auto r = apply_installed(ctx, false);
    CHECK(names_of(r, BootResult::Loaded) == std::vector<std::string>{"kpatch_good", "kpatch_disjoint"});
    REQUIRE(names_of(r, BootResult::Failed) == std::vector<std::string>{"kpatch_badjson"});
    CHECK_THAT(r.items[1].error, Catch::Contains("kpatch_badjson.ko") && Catch::Contains("sympos"));
    CHECK_THAT(r.status, Catch::StartsWith("2 of 3 patches loaded; kpatch_badjson failed: "));
}

TEST_CASE("the store names what its order file lists without a module file", "[store]")
{
    TempTree t;
    Config c = t.config();
    FakeKernel k(c);
    Context ctx{c, k};
    for (auto f : {"kpatch-good.ko", "kpatch-disjoint.ko"})
        REQUIRE(install(ctx, t.fixture(f).string(), test::kRelease));
    fs::remove(c.install_root / test::kRelease / "kpatch_good.ko");
    std::vector<std::string> missing;
    auto l = Store(c.install_root).list(test::kRelease, &missing);
    REQUIRE(l);
    CHECK(l->size() == 1);
    CHECK(missing == std::vector<std::string>{"kpatch_good"});

    auto r = apply_installed(ctx, false);
    REQUIRE(names_of(r, BootResult::Failed) == std::vector<std::string>{"kpatch_good"});
    CHECK_THAT(r.items.back().error, Catch::Contains("kpatch_good.ko is missing") && Catch::Contains("kpatchctl uninstall kpatch_good"));
    auto listed = list(ctx);
    REQUIRE(listed);
    bool shown = false;
    for (const auto &e : listed->patches)
        shown |= e.name == "kpatch_good" && e.state == ListState::Failed && !e.error.empty();
    CHECK(shown);
}

TEST_CASE("a corrupt, mistyped or huge boot record reads as none", "[boot]")
{
    TempTree t;
    Config c = t.config();
    CHECK_FALSE(parse_boot_record(R"({"patches":[{"name":1}]})"));
    CHECK_FALSE(parse_boot_record(R"({"enabled":"yes"})"));
    CHECK_FALSE(parse_boot_record(R"({"patches":{}})"));
    CHECK_FALSE(parse_boot_record("null"));
    for (std::string text : {std::string("{\"status\":null}"), std::string("{"), std::string(17 << 20, ' ')}) {
        t.write("run/kpatch/kpatchd.json", text);
        CHECK_FALSE(read_boot_record(c));
    }
    ::mkfifo((c.run_dir / "fifo").c_str(), 0600);
    fs::remove(c.boot_record_path());
    fs::create_symlink("fifo", c.boot_record_path());
    CHECK_FALSE(read_boot_record(c));  // and does not hang on the FIFO
    auto s = parse_boot_record(R"({"time":"t","enabled":false,"patches":[{"name":"a","result":"loaded"}]})");
    REQUIRE(s);
    CHECK_FALSE(s->enabled);
    CHECK(s->items.at(0).name == "a");
    CHECK(s->items.at(0).result == BootResult::Loaded);
    // A result the loader never writes is an error naming it, not a state nobody knows.
    auto odd = parse_boot_record(R"({"patches":[{"name":"a","result":"exploded"}]})");
    REQUIRE_FALSE(odd);
    CHECK_THAT(odd.error().message, Catch::Contains("\"exploded\""));
}

TEST_CASE("kernel releases with numbers longer than 64 bits still compare", "[status]")
{
    CHECK(compare_versions("6.1.0-" + std::string(30, '9'), "6.1.0-1") > 0);
    CHECK(compare_versions("6.1.0-" + std::string(30, '9'), "6.1.0-" + std::string(31, '1')) < 0);
    CHECK(compare_versions("6.1.007", "6.1.7") == 0);
    TempTree t;
    Config c = t.config();
    fs::create_directories(c.modules_root / ("6.1.0-" + std::string(40, '9') + "-amd64"));
    t.write(fs::path("lib/modules") / ("6.1.0-" + std::string(40, '9') + "-amd64") / "modules.dep", "");
    FakeKernel k(c);
    Context ctx{c, k};
    auto s = status(ctx);
    REQUIRE(s);
    CHECK(s->newer_kernels.size() == 1);
}

TEST_CASE("last_error lines with long names parse; cut ones do not", "[sysfs]")
{
    std::string name(55, 'p');
    auto e = parse_last_error(name + " enable EBUSY: function '" + std::string(120, 'f') + "' in use by comm/1 (tried 5 times)");
    REQUIRE(e);
    CHECK(e->patch == name);
    CHECK(e->errno_name == "EBUSY");
    CHECK_THAT(e->message, Catch::EndsWith("(tried 5 times)"));
    CHECK_FALSE(parse_last_error(name + " enable"));
    CHECK_FALSE(parse_last_error(std::string(4096, 'x')));
}

TEST_CASE("the run directory and lock get their modes whatever the umask", "[lock]")
{
    TempTree t;
    Config c = t.config();
    mode_t old = ::umask(077);
    {
        auto lock = ChangeLock::acquire(c.lock_path(), {});
        REQUIRE(lock);
    }
    ::umask(old);
    struct stat st {};
    REQUIRE(::stat(c.run_dir.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0755);
    REQUIRE(::stat(c.lock_path().c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0644);

    TempTree t2;
    Config c2 = t2.config();
    fs::create_directories(c2.run_dir.parent_path());
    fs::create_symlink(t2.root(), c2.run_dir);
    auto refused = ChangeLock::acquire(c2.lock_path(), {});
    REQUIRE_FALSE(refused);
    CHECK_THAT(refused.error().message, Catch::Contains("not a directory"));
}

TEST_CASE("the core module gets the owner, mode and symlink checks of patch modules", "[load]")
{
    TempTree t;
    Config c = t.config();
    FakeKernel k(c);
    Context ctx{c, k};
    Config &cc = ctx.config;  // the context holds its own copy
    cc.core_module = t.fixture("kpatch.ko").string();
    ::chmod(cc.core_module.c_str(), 0666);
    auto r = load(ctx, t.fixture("kpatch-good.ko").string());
    REQUIRE_FALSE(r);
    CHECK(r.error().code == kRefused);
    CHECK_THAT(r.error().message, Catch::Contains("kpatch.ko") && Catch::Contains("writable by others"));
    CHECK(k.calls.empty());

    ::chmod(cc.core_module.c_str(), 0644);
    fs::create_symlink(cc.core_module, t.root() / "link.ko");
    cc.core_module = (t.root() / "link.ko").string();
    r = load(ctx, t.fixture("kpatch-good.ko").string());
    REQUIRE_FALSE(r);
    CHECK_THAT(r.error().message, Catch::Contains("symlink"));

    // The default places under the modules root: a symlink planted there is refused too.
    cc.core_module.clear();
    k.modprobe_works = false;
    fs::create_directories(c.modules_root / test::kRelease / "extra");
    fs::create_symlink(t.fixture("kpatch.ko"), c.modules_root / test::kRelease / "extra" / "kpatch.ko");
    r = load(ctx, t.fixture("kpatch-good.ko").string());
    REQUIRE_FALSE(r);
    CHECK_THAT(r.error().message, Catch::Contains("symlink"));
    CHECK(k.calls == std::vector<std::string>{"modprobe:kpatch"});
}

TEST_CASE("reconcile never loads an older installed patch on top of a newer one of the same function", "[boot][order]")
{
    TempTree t;
    Config c = t.config();
    FakeKernel k(c);
    Context ctx{c, k};
    // good and same replace cmdline_proc_show and s_show; disjoint replaces two others.
    for (auto f : {"kpatch-good.ko", "kpatch-disjoint.ko", "kpatch-same.ko"})
        REQUIRE(install(ctx, t.fixture(f).string(), test::kRelease));
    k.finit_results = {ENOENT, ENOENT};  // good and disjoint fail at boot
    auto boot = apply_installed(ctx, false);
    CHECK(names_of(boot, BootResult::Loaded) == std::vector<std::string>{"kpatch_same"});

    // Reconcile: disjoint shares nothing with same and loads; good would land on same: refused.
    k.calls.clear();
    auto r = apply_installed(ctx, false);
    CHECK(k.calls == std::vector<std::string>{"finit:kpatch_disjoint"});
    REQUIRE(names_of(r, BootResult::Failed) == std::vector<std::string>{"kpatch_good"});
    CHECK_THAT(r.items[0].error, Catch::Contains("installed before 'kpatch_same'") &&
                                     Catch::Contains("cmdline_proc_show, s_show,2") &&
                                     Catch::Contains("kpatchctl unload"));
    CHECK_FALSE(read_patch(c, "kpatch_good"));

    // The way out it names: unload the newer one, reconcile loads both in installation order.
    REQUIRE(unload(ctx, "kpatch_same"));
    k.calls.clear();
    r = apply_installed(ctx, false);
    CHECK(k.calls == std::vector<std::string>{"finit:kpatch_good", "finit:kpatch_same"});
    CHECK(r.status == "3 of 3 patches loaded");
    CHECK(read_patch(c, "kpatch_good")->order < read_patch(c, "kpatch_same")->order);
}

TEST_CASE("an unsigned module under enforced signatures is refused before the core is loaded", "[load]")
{
    TempTree t;
    Config c = t.config();
    t.write("sys/module/module/parameters/sig_enforce", "Y\n");
    FakeKernel k(c);
    Context ctx{c, k};
    auto r = load(ctx, t.fixture("kpatch-good.ko").string());
    REQUIRE_FALSE(r);
    CHECK(r.error().code == kRefused);
    CHECK_THAT(r.error().message, Catch::Contains("not signed and this kernel enforces module signatures"));
    CHECK(k.calls.empty());
}

// Found while writing loader-fuzz, whose damaged stores put a symlink to /dev/zero where a
// store directory belongs: install's mkdir got EEXIST and it chmodded 0755 through the symlink.
TEST_CASE("install never changes the mode of what a store directory symlink points to", "[store][fuzz]")
{
    TempTree t;
    Config c = t.config();
    FakeKernel k(c);
    Context ctx{c, k};
    fs::path target = t.write("elsewhere/device", "");
    ::chmod(target.c_str(), 0600);
    fs::create_directories(c.install_root);
    fs::create_symlink(target, c.install_root / test::kRelease);
    auto r = install(ctx, t.fixture("kpatch-good.ko").string(), test::kRelease);
    REQUIRE_FALSE(r);
    CHECK_THAT(r.error().message, Catch::Contains((c.install_root / test::kRelease).string()) &&
                                      Catch::Contains("not a directory is in its place"));
    CHECK((fs::status(target).permissions() & fs::perms::all) == (fs::perms::owner_read | fs::perms::owner_write));
}

// Found while writing loader-fuzz (its oracle: every error names the file): with the order
// file listing a patch whose module file is gone,
// `load NAME`, `info NAME` and `verify NAME` said "not installed" (naming no file) while the
// boot pass said to run `kpatchctl uninstall NAME`, which failed the same way.
TEST_CASE("a listed patch without its file: errors name the file, and uninstall removes it", "[store][fuzz]")
{
    TempTree t;
    Config c = t.config();
    FakeKernel k(c);
    Context ctx{c, k};
    REQUIRE(install(ctx, t.fixture("kpatch-good.ko").string(), test::kRelease));
    fs::path ko = c.install_root / test::kRelease / "kpatch_good.ko";
    fs::remove(ko);
    auto loaded = load(ctx, "kpatch_good");
    REQUIRE_FALSE(loaded);
    CHECK(loaded.error().code == kNotFound);
    CHECK_THAT(loaded.error().message, Catch::Contains(ko.string() + " is missing"));
    auto shown = info(ctx, "kpatch-good");
    REQUIRE_FALSE(shown);
    CHECK_THAT(shown.error().message, Catch::Contains(ko.string()));
    auto unknown = verify(ctx, "kpatch_nope");
    REQUIRE_FALSE(unknown);
    CHECK_THAT(unknown.error().message, Catch::Contains((c.install_root / test::kRelease / "order").string() + " does not list it"));

    auto removed = uninstall(ctx, "kpatch_good", test::kRelease);
    REQUIRE(removed);
    CHECK(removed->position == 1);
    CHECK(t.read("var/lib/kpatch/" + std::string(test::kRelease) + "/order").empty());
}

// Found by loader-fuzz (seed 1, input 43: a FIFO in a module file's place): `kpatchctl info`,
// `load` and `install` blocked in open() waiting for a writer; and a symlink to /dev/zero
// went to libelf as if it were a file.
TEST_CASE("info, verify, load and install of a FIFO or a device refuse it, naming it, without waiting", "[module][fuzz]")
{
    TempTree t;
    Config c = t.config();
    FakeKernel k(c);
    Context ctx{c, k};
    fs::path fifo = t.root() / "modules/fifo.ko", zero = t.root() / "modules/zero.ko";
    fs::create_directories(fifo.parent_path());
    REQUIRE(::mkfifo(fifo.c_str(), 0644) == 0);
    fs::create_symlink("/dev/zero", zero);
    for (const auto &p : {fifo, zero}) {
        auto i = info(ctx, p.string());
        REQUIRE_FALSE(i);
        CHECK(i.error().code == kRefused);
        CHECK_THAT(i.error().message, Catch::Contains(p.string()) && Catch::Contains("not a regular file"));
        CHECK_FALSE(verify(ctx, p.string()));
        for (auto r : {load(ctx, p.string()).has_value(), install(ctx, p.string(), test::kRelease).has_value()})
            CHECK_FALSE(r);
    }
    auto loaded = load(ctx, fifo.string());
    REQUIRE_FALSE(loaded);
    CHECK_THAT(loaded.error().message, Catch::Contains(fifo.string()) && Catch::Contains("not a regular file"));
}
