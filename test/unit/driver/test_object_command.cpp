// Tests of compiling an object by kbuild's recorded command (licence: GPL-2.0-only).
// A stand-in compiler (a shell script in a scratch tree) plays gcc: it copies the source
// to the object, or, as the unreproducible one, writes something new each time.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sys/stat.h>
#include <unistd.h>

#include "context.hpp"
#include "object_command.hpp"

namespace fs = std::filesystem;
using namespace kpatch::driver;

namespace {

struct ScratchTree {
    std::string root;
    ScratchTree()
    {
        char tmpl[] = "/tmp/kpatch-objcmd.XXXXXX";
        root = mkdtemp(tmpl);
        fs::create_directories(root + "/fs/proc");
        fs::create_directories(root + "/tools/objtool");
        // "-c -o OUT SRC": the object is the source's bytes; objtool appends a mark.
        write("cc", "#!/bin/sh\nwhile [ $# -gt 2 ]; do shift; done\ncp \"$2\" \"$1\"\n");
        write("cc-new", "#!/bin/sh\nwhile [ $# -gt 2 ]; do shift; done\ndate +%N >\"$1\"\n");
        write("tools/objtool/objtool", "#!/bin/sh\nfor last; do :; done\necho objtool >>\"$last\"\n");
        for (auto f : {"cc", "cc-new", "tools/objtool/objtool"})
            chmod((root + "/" + f).c_str(), 0755);
        write("fs/proc/x.c", "int x;\n");
    }
    ~ScratchTree() { fs::remove_all(root); }
    void write(const std::string &rel, const std::string &text) const
    {
        std::ofstream(root + "/" + rel, std::ios::trunc) << text;
    }
    std::string read(const std::string &rel) const
    {
        auto t = read_text(root + "/" + rel);
        return t ? *t : "<missing>";
    }
    void record(const std::string &command) const
    {
        write("fs/proc/.x.o.cmd", "cmd_fs/proc/x.o := " + command + "\n\nsource_fs/proc/x.o := fs/proc/x.c\n");
    }
};

const std::string kCompile = "./cc -Wall -c -o fs/proc/x.o fs/proc/x.c";
const std::string kObjtool = " ; ./tools/objtool/objtool --orc fs/proc/x.o";

} // namespace

TEST_CASE("kbuild's recorded compile and objtool command is read back", "[driver][objcmd]")
{
    ScratchTree t;
    t.record(kCompile + kObjtool);
    auto c = recorded_command(t.root, "fs/proc/x.o");
    REQUIRE(c);
    CHECK(*c == kCompile + kObjtool);
    // 6.3 and later name the line savedcmd_.
    t.write("fs/proc/.x.o.cmd", "savedcmd_fs/proc/x.o := " + kCompile + "\n");
    REQUIRE(recorded_command(t.root, "fs/proc/x.o"));
    CHECK(*recorded_command(t.root, "fs/proc/x.o") == kCompile);
}

TEST_CASE("commands that are more than a compile and objtool stay with make", "[driver][objcmd]")
{
    ScratchTree t;
    CHECK_FALSE(recorded_command(t.root, "fs/proc/x.o"));  // no record at all
    for (const std::string &bad : std::vector<std::string>{
             "./cc -c -o fs/proc/other.o fs/proc/x.c",                       // another output
             "./cc -c fs/proc/x.c",                                           // no -o
             kCompile + " ; scripts/recordmcount fs/proc/x.o",                // a step after it
             kCompile + " ; ./tools/objtool/objtool --orc fs/proc/y.o",       // objtool elsewhere
             kCompile + " | tee log", kCompile + " > out", "$(CC) -c -o fs/proc/x.o fs/proc/x.c",
             "./cc -pg -c -o fs/proc/x.o fs/proc/x.c",  // recordmcount runs after such a compile
         }) {
        t.record(bad);
        CHECK_FALSE(recorded_command(t.root, "fs/proc/x.o"));
    }
    t.record("./cc -pg -mrecord-mcount -c -o fs/proc/x.o fs/proc/x.c");
    CHECK(recorded_command(t.root, "fs/proc/x.o"));
    // A record for another object does not count for this one.
    t.write("fs/proc/.x.o.cmd", "cmd_fs/proc/y.o := " + kCompile + "\n");
    CHECK_FALSE(recorded_command(t.root, "fs/proc/x.o"));
}

TEST_CASE("a command is kept only when it reproduces make's object", "[driver][objcmd]")
{
    ScratchTree t;
    std::string cache = t.root + "/cache/fs/proc/x.o.command", log = t.root + "/log";
    // What make built: the same bytes the command makes.
    t.write("fs/proc/x.o", "int x;\nobjtool\n");
    t.record(kCompile + kObjtool);
    CHECK(prove_command(t.root, "fs/proc/x.o", {}, cache, log));
    CHECK(t.read("cache/fs/proc/x.o.command") == kCompile + kObjtool + "\n");
    CHECK(t.read("fs/proc/x.o") == "int x;\nobjtool\n");
    CHECK_FALSE(fs::exists(t.root + "/fs/proc/x.o.by-make"));

    // make's object differs from what the command makes (kbuild did more than it
    // recorded): not kept, and make's object is left as it was.
    fs::remove(cache);
    t.write("fs/proc/x.o", "made by make\n");
    CHECK_FALSE(prove_command(t.root, "fs/proc/x.o", {}, cache, log));
    CHECK_FALSE(fs::exists(cache));
    CHECK(t.read("fs/proc/x.o") == "made by make\n");

    // A compiler that is not reproducible.
    t.record("./cc-new -c -o fs/proc/x.o fs/proc/x.c");
    CHECK_FALSE(prove_command(t.root, "fs/proc/x.o", {}, cache, log));
    CHECK_FALSE(fs::exists(cache));
    CHECK(t.read("fs/proc/x.o") == "made by make\n");
    CHECK(t.read("log").find("did not reproduce") != std::string::npos);
}

TEST_CASE("direct compiles write the object and kbuild's record, failures go back to make",
          "[driver][objcmd]")
{
    ScratchTree t;
    t.write("fs/proc/y.c", "int y;\n");
    // A stale object and a record, as a pristine tree's copies might be.
    t.write("fs/proc/x.o", "stale\n");
    std::map<std::string, std::string> commands = {
        {"fs/proc/x.o", kCompile + kObjtool},
        {"fs/proc/y.o", "./cc -c -o fs/proc/y.o fs/proc/missing.c"},
    };
    auto failed = compile_directly(t.root, commands, {{"CPATH", "/nonexistent"}}, 2, t.root + "/log");
    REQUIRE(failed == std::vector<std::string>{"fs/proc/y.o"});
    CHECK(t.read("fs/proc/x.o") == "int x;\nobjtool\n");
    CHECK(t.read("fs/proc/.x.o.cmd") == "cmd_fs/proc/x.o := " + kCompile + kObjtool + "\n");
    CHECK_FALSE(fs::exists(t.root + "/fs/proc/y.o"));
    CHECK_FALSE(fs::exists(t.root + "/fs/proc/.y.o.cmd"));
}

TEST_CASE("a direct compile replaces a hard-linked object instead of writing through it",
          "[driver][objcmd]")
{
    ScratchTree t;
    t.write("pristine.o", "pristine\n");
    fs::create_hard_link(t.root + "/pristine.o", t.root + "/fs/proc/x.o");
    auto failed = compile_directly(t.root, {{"fs/proc/x.o", kCompile}}, {}, 1, t.root + "/log");
    CHECK(failed.empty());
    CHECK(t.read("pristine.o") == "pristine\n");
    CHECK(t.read("fs/proc/x.o") == "int x;\n");
}

TEST_CASE("a kept command is checked again when it is read back", "[driver][objcmd]")
{
    ScratchTree t;
    PreparedTree tree;
    tree.objects = t.root + "/cache";
    CHECK_FALSE(cached_command(tree, "fs/proc/x.o"));  // none kept
    fs::create_directories(t.root + "/cache/fs/proc");
    t.write("cache/fs/proc/x.o.command", kCompile + kObjtool + "\n");
    REQUIRE(cached_command(tree, "fs/proc/x.o"));
    CHECK(*cached_command(tree, "fs/proc/x.o") == kCompile + kObjtool);
    // Not what prove_command keeps: ignored, so make builds the object.
    t.write("cache/fs/proc/x.o.command", kCompile + " | tee /tmp/x\n");
    CHECK_FALSE(cached_command(tree, "fs/proc/x.o"));
    t.write("cache/fs/proc/x.o.command", "\n");
    CHECK_FALSE(cached_command(tree, "fs/proc/x.o"));
}
