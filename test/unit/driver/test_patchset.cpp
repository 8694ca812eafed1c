// Tests of reading patches and applying them in a hard-link copy without touching the
// original (licence: GPL-2.0-only).
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sys/stat.h>
#include <unistd.h>

#include "patchset.hpp"

using namespace kpatch::driver;
namespace fs = std::filesystem;

namespace {

struct Scratch {
    fs::path dir = fs::temp_directory_path() / ("kpatch-test-" + std::to_string(getpid()));
    Scratch() { fs::create_directories(dir); }
    ~Scratch() { fs::remove_all(dir); }
    void write(const std::string &rel, const std::string &text)
    {
        fs::create_directories((dir / rel).parent_path());
        std::ofstream(dir / rel) << text;
    }
    std::string read(const std::string &rel)
    {
        std::ifstream in(dir / rel);
        return {std::istreambuf_iterator<char>(in), {}};
    }
};

const char kPatch[] = "Subject\n\n--- a/fs/x.c\n+++ b/fs/x.c\n@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n";

} // namespace

TEST_CASE("git-style names give -p1 and the changed files", "[patch]")
{
    Scratch s;
    s.write("tree/fs/x.c", "a\nb\nc\n");
    s.write("p.patch", kPatch);
    auto set = read_patches({(s.dir / "p.patch").string()}, (s.dir / "tree").string());
    REQUIRE(set);
    REQUIRE(set->patches.size() == 1);
    CHECK(set->patches[0].strip == 1);
    CHECK(set->files == std::vector<std::string>{"fs/x.c"});
    CHECK(set->sha256.size() == 64);
}

TEST_CASE("a file that is not a patch is an error naming it", "[patch]")
{
    Scratch s;
    s.write("p.patch", "hello\n");
    auto set = read_patches({(s.dir / "p.patch").string()}, s.dir.string());
    REQUIRE_FALSE(set);
    CHECK_THAT(set.error().message, Catch::Contains("p.patch"));
}

TEST_CASE("applying in a hard-link copy leaves the original untouched", "[patch]")
{
    Scratch s;
    s.write("tree/fs/x.c", "a\nb\nc\n");
    s.write("p.patch", kPatch);
    fs::create_directories(s.dir / "copy/fs");
    fs::create_hard_link(s.dir / "tree/fs/x.c", s.dir / "copy/fs/x.c");
    auto set = read_patches({(s.dir / "p.patch").string()}, (s.dir / "tree").string());
    REQUIRE(set);
    REQUIRE(apply_patches(*set, (s.dir / "copy").string(), "test tree"));
    CHECK(s.read("copy/fs/x.c") == "a\nB\nc\n");
    CHECK(s.read("tree/fs/x.c") == "a\nb\nc\n");
}

TEST_CASE("GNU patch itself replaces files rather than writing through links", "[patch]")
{
    // The reason the driver's own link breaking is a second line of defence, not the only.
    Scratch s;
    s.write("tree/fs/x.c", "a\nb\nc\n");
    s.write("p.patch", kPatch);
    fs::create_directories(s.dir / "copy/fs");
    fs::create_hard_link(s.dir / "tree/fs/x.c", s.dir / "copy/fs/x.c");
    std::string cmd = "cd " + (s.dir / "copy").string() + " && patch -s -p1 < ../p.patch";
    REQUIRE(std::system(cmd.c_str()) == 0);
    CHECK(s.read("tree/fs/x.c") == "a\nb\nc\n");
}

TEST_CASE("a patch that does not apply is exit 1 with patch's message", "[patch]")
{
    Scratch s;
    s.write("tree/fs/x.c", "a\nZ\nc\n");
    s.write("p.patch", kPatch);
    auto set = read_patches({(s.dir / "p.patch").string()}, (s.dir / "tree").string());
    REQUIRE(set);
    auto applied = apply_patches(*set, (s.dir / "tree").string(), "test tree");
    REQUIRE_FALSE(applied);
    CHECK(applied.error().code == kExitError);
    CHECK_THAT(applied.error().message, Catch::Contains("fs/x.c"));
    CHECK_THAT(applied.error().message, Catch::Contains("FAILED"));
}
