// Tests of ExportTable over synthetic lines and the target's real Module.symvers
// (licence: GPL-2.0-only).
#include <catch2/catch.hpp>
#include "skip.hpp"

#include <cstdlib>
#include <kpatch/symbols/kernel_symbols.hpp>

using namespace kpatch::symbols;

TEST_CASE("symvers: lines with and without a namespace", "[symvers]")
{
    auto t = ExportTable::parse("0x1234abcd\tprintk\tvmlinux\tEXPORT_SYMBOL\t\n"
                                "0x00000001\tfat_attach\tfs/fat/fat\tEXPORT_SYMBOL_GPL\t\n"
                                "0x00000002\tusb_thing\tvmlinux\tEXPORT_SYMBOL_GPL\tUSB_NS\n");
    REQUIRE(t);
    CHECK(t->size() == 3);
    const Export *p = t->find("printk");
    REQUIRE(p);
    CHECK(p->crc == 0x1234abcd);
    CHECK_FALSE(p->gpl_only);
    CHECK(t->is_exported_by_vmlinux("printk"));
    CHECK(t->is_exported("fat_attach"));
    CHECK_FALSE(t->is_exported_by_vmlinux("fat_attach"));
    CHECK(t->find("usb_thing")->name_space == "USB_NS");
    CHECK_FALSE(t->is_exported("cmdline_proc_show"));
}

TEST_CASE("symvers: a malformed line is an error naming the line", "[symvers]")
{
    auto t = ExportTable::parse("0x1\tok\tvmlinux\tEXPORT_SYMBOL\t\nnot a line\n", "sv");
    REQUIRE_FALSE(t);
    CHECK_THAT(t.error().message, Catch::Contains("sv:2"));
}

TEST_CASE("symvers: the target kernel's Module.symvers", "[symvers][real]")
{
    const char *path = std::getenv("KPATCH_TEST_SYMVERS");
    if (!path || !*path)
        SKIP_TEST("no target kernel headers (KPATCH_TEST_SYMVERS)");
    auto t = ExportTable::load(path);
    REQUIRE(t);
    CHECK(t->size() > 10000);
    CHECK(t->is_exported_by_vmlinux("_printk"));
    CHECK(t->is_exported_by_vmlinux("stop_machine"));
    CHECK(t->find("stop_machine")->gpl_only);
    CHECK(t->is_exported_by_vmlinux("register_ftrace_function"));
    CHECK_FALSE(t->is_exported("kallsyms_lookup_name"));
    CHECK_FALSE(t->is_exported("cmdline_proc_show"));
}
