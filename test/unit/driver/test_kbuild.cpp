// Tests of the kbuild evaluator, on a small synthetic tree and on the prepared Debian tree
// when KPATCH_TEST_KERNEL_TREE names one (licence: GPL-2.0-only).
#include <catch2/catch.hpp>
#include "skip.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <unistd.h>

#include "includes.hpp"
#include "kbuild.hpp"

using namespace kpatch::driver;
namespace fs = std::filesystem;

namespace {

fs::path synthetic_tree()
{
    fs::path t = fs::temp_directory_path() / ("kpatch-kbuild-" + std::to_string(getpid()));
    fs::create_directories(t / "fs/proc");
    fs::create_directories(t / "fs/fat");
    std::ofstream(t / ".config") << "CONFIG_PROC_FS=y\nCONFIG_FAT_FS=m\nCONFIG_NET=y\n";
    std::ofstream(t / "Kbuild") << "obj-y += fs/\n";
    std::ofstream(t / "fs/Makefile") << "obj-$(CONFIG_PROC_FS) += proc/\nobj-$(CONFIG_FAT_FS) += fat/\n";
    std::ofstream(t / "fs/proc/Makefile")
        << "obj-y += proc.o\nproc-y := inode.o \\\n\tcmdline.o\n"
           "proc-$(CONFIG_NET) += proc_net.o\nproc-$(CONFIG_NOPE) += nope.o\n"
           "ifdef CONFIG_NOPE\nproc-y += hidden.o\nelse\nproc-y += shown.o\nendif\n";
    std::ofstream(t / "fs/fat/Makefile") << "obj-$(CONFIG_FAT_FS) += fat.o\nfat-y := inode.o\n";
    std::ofstream(t / "fs/proc/internal.h") << "static inline int f(void) { return 1; }\n";
    std::ofstream(t / "fs/proc/cmdline.c") << "#include \"internal.h\"\n";
    std::ofstream(t / "fs/proc/inode.c") << "#include <linux/x.h>\n#include \"internal.h\"\n";
    return t;
}

} // namespace

TEST_CASE("kbuild: built-in, module and unbuilt objects of a synthetic tree", "[kbuild]")
{
    fs::path t = synthetic_tree();
    auto k = KbuildConfig::load(t.string());
    REQUIRE(k);
    CHECK(k->object("fs/proc/cmdline.o") == Linkage::Builtin);
    CHECK(k->object("fs/proc/proc_net.o") == Linkage::Builtin);
    CHECK(k->object("fs/proc/nope.o") == Linkage::NotBuilt);
    CHECK(k->object("fs/proc/hidden.o") == Linkage::NotBuilt);
    CHECK(k->object("fs/proc/shown.o") == Linkage::Builtin);
    CHECK(k->object("fs/fat/inode.o") == Linkage::Module);
    CHECK(k->object("fs/proc/missing.o") == Linkage::NotBuilt);

    IncludeIndex index;
    REQUIRE(IncludeIndex::load_or_build(t.string(), (t / "includes.idx").string(), index));
    CHECK(index.includers("fs/proc/internal.h") ==
          std::vector<std::string>{"fs/proc/cmdline.c", "fs/proc/inode.c"});
    fs::remove_all(t);
}

TEST_CASE("kbuild: the prepared Debian tree", "[kbuild][real]")
{
    const char *tree = std::getenv("KPATCH_TEST_KERNEL_TREE");
    if (!tree || !*tree)
        SKIP_TEST("KPATCH_TEST_KERNEL_TREE is not set (make check sets it)");
    auto k = KbuildConfig::load(tree);
    REQUIRE(k);
    CHECK(k->object("fs/proc/cmdline.o") == Linkage::Builtin);
    CHECK(k->object("mm/vmalloc.o") == Linkage::Builtin);
    CHECK(k->object("kernel/utsname_sysctl.o") == Linkage::Builtin);
    CHECK(k->object("arch/x86/kernel/cpu/mce/severity.o") == Linkage::Builtin);
    CHECK(k->object("fs/proc/nommu.o") == Linkage::NotBuilt);
    CHECK(k->object("fs/fat/inode.o") == Linkage::Module);
    CHECK(k->object("fs/ext4/inode.o") == Linkage::Module);
}
