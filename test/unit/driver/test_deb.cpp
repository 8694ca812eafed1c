// The Debian packages kpatch-build writes: names, versions, relations, the maintainer
// scripts' build-id check, and a package dpkg-deb can read back (licence: GPL-2.0-only).
#include <catch2/catch.hpp>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <unistd.h>

#include <kpatch/build_id.hpp>

#include "deb_control.hpp"
#include "elf_note.hpp"
#include "deb_package.hpp"
#include "deb_scripts.hpp"
#include "process.hpp"

namespace fs = std::filesystem;
using namespace kpatch::driver;

namespace {

deb::PatchPackage sample(bool replace)
{
    deb::PatchPackage p;
    p.name = "cmdline-banner";
    p.version = "2";
    p.kernel_release = "6.1.0-57-amd64";
    p.image_version = "6.1.192-3";
    p.serial = "20261206193000";
    p.replace = replace;
    p.build_id = "0123abcd";
    p.module = "kpatch-cmdline-banner-v2";
    p.maintainer = "Sec Team <sec@example.org>";
    p.patches = {"cmdline-banner.patch"};
    p.functions = {"cmdline_proc_show", "s_show,3"};
    return p;
}

// The value of FIELD in a control file ("" when absent).
std::string field(const std::string &control, const std::string &name)
{
    std::istringstream in(control);
    for (std::string line; std::getline(in, line);)
        if (line.starts_with(name + ": "))
            return line.substr(name.size() + 2);
    return "";
}

std::string message(const kpatch::Expected<void> &r)
{
    return r ? std::string("(no error)") : r.error().message;
}

struct TempDir {
    fs::path path = fs::temp_directory_path() / ("kpatch-test-deb-" + std::to_string(::getpid()));
    TempDir() { fs::create_directories(path); }
    ~TempDir() { fs::remove_all(path); }
};

// Runs the postinst's running_build_id function with KPATCH_KERNEL_NOTES=NOTES.
std::string shell_build_id(const std::string &notes_file)
{
    std::string postinst = deb::patch_scripts("p", "k", "m", "/f.ko", "id").postinst;
    auto begin = postinst.find("running_build_id() {");
    auto end = postinst.find("\n}\n", begin);
    REQUIRE(begin != std::string::npos);
    REQUIRE(end != std::string::npos);
    Command cmd({"sh", "-c", postinst.substr(begin, end + 3 - begin) + "running_build_id"});
    cmd.env["KPATCH_KERNEL_NOTES"] = notes_file;
    auto out = run(cmd);
    REQUIRE(out);
    REQUIRE(out->status == 0);
    std::string id = out->output;
    while (!id.empty() && id.back() == '\n')
        id.pop_back();
    return id;
}

} // namespace

TEST_CASE("deb: NAME must be a valid package-name component, the error names the problem", "[deb]")
{
    for (const char *ok : {"cmdline-banner", "cve-2024-1234", "fix.1", "a+b", "0day"})
        CHECK(deb::check_name(ok));
    CHECK_THAT(message(deb::check_name("Fix")), Catch::Contains("must start with a lowercase letter or a digit"));
    CHECK_THAT(message(deb::check_name("fix_1")), Catch::Contains("has '_'"));
    CHECK_THAT(message(deb::check_name("fixA")), Catch::Contains("has 'A'"));
    CHECK_THAT(message(deb::check_name("-fix")), Catch::Contains("must start with"));
    CHECK_THAT(message(deb::check_name("fix 1")), Catch::Contains("has ' '"));
    CHECK_THAT(message(deb::check_name("")), Catch::Contains("-n NAME is empty"));
    CHECK_THAT(message(deb::check_kernel_release("6.1.0-57-Custom")),
               Catch::Contains("cannot be part of a Debian package name"));
}

TEST_CASE("deb: versions follow Debian's syntax", "[deb]")
{
    for (const char *ok : {"1", "2.0-1", "1:2.3~rc1", "20261206+deb12u1", "1.0-1+b2"})
        CHECK(deb::check_version(ok));
    CHECK_THAT(message(deb::check_version("v1")), Catch::Contains("must start with a digit"));
    CHECK_THAT(message(deb::check_version("1_0")), Catch::Contains("has '_'"));
    CHECK_THAT(message(deb::check_version("1-")), Catch::Contains("revision after the last '-' is empty"));
    CHECK_THAT(message(deb::check_version("x:1")), Catch::Contains("epoch before ':' must be a number"));
    CHECK_THAT(message(deb::check_version("")), Catch::Contains("empty"));
}

TEST_CASE("deb: one module name per package version, within the kernel's limit", "[deb]")
{
    CHECK(*deb::module_name("cmdline-banner", "1") == "kpatch-cmdline-banner-v1");
    CHECK(*deb::module_name("cmdline-banner", "2") != *deb::module_name("cmdline-banner", "1"));
    CHECK(*deb::module_name("fix.a+b", "1:1.2+3~4-1") == "kpatch-fix_a_b-v1e1_2p3t4-1");
    auto long_name = deb::module_name(std::string(50, 'x'), "1");
    REQUIRE(!long_name);
    CHECK_THAT(long_name.error().message, Catch::Contains("longer than the kernel's 55 characters"));
    CHECK(deb::package_name("cmdline-banner", "6.1.0-57-amd64") == "kpatch-patch-cmdline-banner-6.1.0-57-amd64");
    CHECK(deb::file_name("kpatch-patch-x-6.1.0-57-amd64", "1:2-1") == "kpatch-patch-x-6.1.0-57-amd64_2-1_amd64.deb");
    CHECK(deb::serial_for(0) == "19700101000000");
    CHECK(deb::serial_for(1765049400) == "20251206193000");
}

TEST_CASE("deb: --deb needs -n and checks it before anything is built", "[deb]")
{
    Options o;
    o.deb = true;
    auto missing = deb::naming(o, "6.1.0-57-amd64");
    REQUIRE(!missing);
    CHECK_THAT(missing.error().message, Catch::Contains("--deb needs -n NAME"));
    o.name = "Bad_Name";
    auto bad = deb::naming(o, "6.1.0-57-amd64");
    REQUIRE(!bad);
    CHECK_THAT(bad.error().message, Catch::Contains("-n: package name component 'Bad_Name'"));
    o.name = "good";
    o.deb_version = "beta";
    auto badv = deb::naming(o, "6.1.0-57-amd64");
    REQUIRE(!badv);
    CHECK_THAT(badv.error().message, Catch::Contains("--deb-version: package version 'beta'"));
    o.deb_version = "";
    auto n = deb::naming(o, "6.1.0-57-amd64");
    REQUIRE(n);
    CHECK(n->package == "kpatch-patch-good-6.1.0-57-amd64");
    CHECK(n->version == "1");
    CHECK(n->module == "kpatch-good-v1");
}

TEST_CASE("deb: a patch package depends on the exact kernel build, kpatch and a core", "[deb]")
{
    std::string c = deb::patch_control(sample(false));
    CHECK(field(c, "Package") == "kpatch-patch-cmdline-banner-6.1.0-57-amd64");
    CHECK(field(c, "Version") == "2");
    CHECK(field(c, "Architecture") == "amd64");
    CHECK(field(c, "Depends") ==
          "kpatch, linux-image-6.1.0-57-amd64 (= 6.1.192-3) | linux-image-6.1.0-57-amd64-unsigned "
          "(= 6.1.192-3), kpatch-modules-6.1.0-57-amd64 | kpatch-dkms");
    CHECK(field(c, "Provides") == "kpatch-patch-6.1.0-57-amd64 (= 20261206193000)");
    CHECK(field(c, "Conflicts").empty());  // a stacked patch lives beside the others
    CHECK(field(c, "Replaces").empty());
    CHECK_THAT(c, Catch::Contains(" Functions: cmdline_proc_show s_show,3\n"));
    CHECK_THAT(c, !Catch::Contains("Cumulative"));
}

TEST_CASE("deb: a cumulative package conflicts with and replaces the ones built before it", "[deb]")
{
    std::string c = deb::patch_control(sample(true));
    CHECK(field(c, "Provides") == "kpatch-patch-6.1.0-57-amd64 (= 20261206193000)");
    CHECK(field(c, "Conflicts") == "kpatch-patch-6.1.0-57-amd64 (<< 20261206193000)");
    CHECK(field(c, "Replaces") == "kpatch-patch-6.1.0-57-amd64 (<< 20261206193000)");
    CHECK_THAT(c, Catch::Contains("Cumulative: it replaces"));
}

TEST_CASE("deb: the core package depends on the exact kernel build", "[deb]")
{
    deb::CorePackage p{"6.1.0-57-amd64", "6.1.192-3", "0.9", 40, "A <a@b>"};
    std::string c = deb::core_control(p);
    CHECK(field(c, "Package") == "kpatch-modules-6.1.0-57-amd64");
    CHECK(field(c, "Depends") == "linux-image-6.1.0-57-amd64 (= 6.1.192-3) | linux-image-6.1.0-57-amd64-unsigned (= 6.1.192-3)");
    CHECK_THAT(deb::core_scripts("6.1.0-57-amd64").postinst, Catch::Contains("depmod -a 6.1.0-57-amd64"));
}

TEST_CASE("deb: the maintainer scripts are valid sh and read the build id as the loader does", "[deb]")
{
    auto s = deb::patch_scripts("kpatch-patch-x-6.1.0-57-amd64", "6.1.0-57-amd64", "kpatch-x-v1",
                                "/usr/lib/kpatch/packages/6.1.0-57-amd64/kpatch-x-v1.ko", "00ff");
    TempDir tmp;
    for (auto [name, text] : {std::pair{"postinst", s.postinst}, {"prerm", s.prerm}, {"postrm", s.postrm}}) {
        INFO(name);
        CHECK_THAT(text, !Catch::Contains("@"));  // every placeholder filled
        std::ofstream(tmp.path / name) << text;
        auto check = run(Command({"sh", "-n", (tmp.path / name).string()}));
        REQUIRE(check);
        CHECK(check->status == 0);
    }
    CHECK_THAT(s.postinst, Catch::Contains("BUILD_ID=00ff\n"));
    // The unload waits for kpatch's trigger (deb_scripts.hpp says why).
    CHECK_THAT(s.prerm, Catch::Contains("dpkg-trigger --no-await kpatch-unload"));
    CHECK_THAT(s.prerm, !Catch::Contains("kpatchctl unload"));

    // A Xen note before the GNU one, as in a real kernel's notes.
    std::string notes = elf_note(1, std::string("Xen\0", 4), "abcde") +
                        elf_note(3, std::string("GNU\0", 4), std::string("\x01\xab\x00\xff\x10", 5));
    std::ofstream(tmp.path / "notes", std::ios::binary) << notes;
    CHECK(kpatch::find_gnu_build_id(notes) == "01ab00ff10");
    CHECK(shell_build_id((tmp.path / "notes").string()) == "01ab00ff10");
    CHECK(shell_build_id((tmp.path / "missing").string()).empty());
    // And this machine's own kernel, where readable.
    std::ifstream real("/sys/kernel/notes", std::ios::binary);
    std::string real_notes((std::istreambuf_iterator<char>(real)), std::istreambuf_iterator<char>());
    if (!real_notes.empty())
        CHECK(shell_build_id("/sys/kernel/notes") == kpatch::find_gnu_build_id(real_notes));
}

TEST_CASE("deb: dpkg-deb reads back the package that write_patch_package built", "[deb]")
{
    TempDir tmp;
    std::ofstream(tmp.path / "m.ko") << std::string(3000, 'k');
    auto deb = deb::write_patch_package(sample(true), (tmp.path / "m.ko").string(),
                                        (tmp.path / "work").string(), (tmp.path / "out").string());
    REQUIRE(deb);
    CHECK(fs::path(*deb).filename() == "kpatch-patch-cmdline-banner-6.1.0-57-amd64_2_amd64.deb");
    auto info = run(Command({"dpkg-deb", "-f", *deb, "Package", "Installed-Size", "Conflicts"}));
    REQUIRE(info);
    CHECK(info->status == 0);
    CHECK_THAT(info->output, Catch::Contains("Package: kpatch-patch-cmdline-banner-6.1.0-57-amd64"));
    CHECK_THAT(info->output, Catch::Contains("Installed-Size: 3\n"));
    auto files = run(Command({"dpkg-deb", "-c", *deb}));
    REQUIRE(files);
    CHECK_THAT(files->output, Catch::Contains("-rw-r--r-- root/root      3000 "));
    CHECK_THAT(files->output, Catch::Contains("./usr/lib/kpatch/packages/6.1.0-57-amd64/kpatch-cmdline-banner-v2.ko"));
    auto scripts = run(Command({"dpkg-deb", "-I", *deb}));
    REQUIRE(scripts);
    CHECK_THAT(scripts->output, Catch::Contains("postinst"));
    CHECK_THAT(scripts->output, Catch::Contains("prerm"));
}
