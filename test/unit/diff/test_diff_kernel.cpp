// create-diff-object on real objects of the Debian 6.1 kernel (licence: GPL-2.0-only).
// Needs KPATCH_TEST_KERNEL_TREE (a prepared tree, doc/interfaces.md); skips without it.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>
#include <sys/stat.h>

#include "diff/kernel_resolver.hpp"
#include "fixtures.hpp"

using namespace kpatch;
using diff::Outcome;

namespace {

std::string env(const char *name)
{
    const char *v = std::getenv(name);
    return v ? v : "";
}

// The target kernel release, as scripts/target-kernel-release says.
std::string target_release()
{
    std::string out;
    if (FILE *p = popen(("sh '" + env("KPATCH_TARGET_RELEASE_SCRIPT") + "' 2>/dev/null").c_str(), "r")) {
        char buf[256];
        while (fgets(buf, sizeof buf, p))
            out += buf;
        pclose(p);
    }
    while (!out.empty() && (out.back() == '\n' || out.back() == ' '))
        out.pop_back();
    return out;
}

// Builds the pair for `patch` (cached by the script) and diffs it; "" when skipped.
struct KernelRun {
    bool skipped = true;
    fixtures::Run run;
};

// `nodwarf`: both objects go through `strip --strip-debug` first, as objects of a kernel
// built without debug info would come.
KernelRun kernel_diff(const std::string &obj, const std::string &patch, bool nodwarf = false)
{
    KernelRun k;
    std::string tree = env("KPATCH_TEST_KERNEL_TREE");
    if (tree.empty() || fixtures::dir().empty())
        return k;
    std::string out = env("KPATCH_FIXTURE_OUT") + "/kernel/" + patch;
    std::string patch_file = patch == "identical" ? "/dev/null" : env("KPATCH_KERNEL_PATCHES") + "/" + patch + ".patch";
    std::string work = out + ".work";   // the overlay the patched object is built in
    std::string cmd = "sh '" + env("KPATCH_KERNEL_PAIR_SCRIPT") + "' '" + tree + "' '" + work + "' '" + obj +
                      "' '" + patch_file + "' '" + out + "' >&2";
    if (std::system(cmd.c_str()) != 0)
        FAIL("building the kernel pair failed: " << cmd);
    std::string suffix;
    if (nodwarf) {
        suffix = "-nodwarf";
        for (const char *side : {"orig", "patched"}) {
            std::string strip = "strip --strip-debug -o '" + out + "/" + side + suffix + ".o' '" + out + "/" + side + ".o'";
            if (std::system(strip.c_str()) != 0)
                FAIL("stripping failed: " << strip);
        }
    }
    k.run.orig = fixtures::load_path(out + "/orig" + suffix + ".o");
    k.run.patched = fixtures::load_path(out + "/patched" + suffix + ".o");
    // The target's tables: Module.symvers of its headers, and a copy of its /proc/kallsyms
    // when KPATCH_TEST_KALLSYMS names one (positions are 0 without it).
    auto kernel = diff::KernelResolver::load(env("KPATCH_TEST_KALLSYMS"),
                                             "/usr/src/linux-headers-" + target_release() + "/Module.symvers", obj);
    if (!kernel)
        FAIL(kernel.error().message);
    diff::Options opt;
    opt.object_path = obj;
    opt.symbols = kernel->get();
    auto res = diff::run_diff(*k.run.orig, *k.run.patched, opt);
    if (!res)
        FAIL(res.error().message);
    k.run.result = std::move(*res);
    k.skipped = false;
    return k;
}

#define KERNEL_PAIR(var, obj, patch, ...)                                              \
    auto var = kernel_diff(obj, patch, ##__VA_ARGS__);                                 \
    if (var.skipped)                                                                   \
        SKIP_TEST("set KPATCH_TEST_KERNEL_TREE to a prepared 6.1 tree");

bool changed(const fixtures::Run &r, const std::string &name)
{
    for (auto &c : r.result.changed)
        if (c.name == name)
            return true;
    return false;
}

} // namespace

TEST_CASE("kernel fs/proc: one changed function with its string", "[diff][kernel]")
{
    KERNEL_PAIR(k, "fs/proc/cmdline.o", "cmdline-change");
    auto &r = k.run.result;
    REQUIRE(r.outcome == Outcome::Changed);
    REQUIRE(r.changed.size() == 1);
    CHECK(r.changed[0].name == "cmdline_proc_show");
    CHECK(r.special_entries.at("__mcount_loc") == 1);
    CHECK(r.special_entries.count(".orc_unwind_ip"));
    CHECK(r.special_entries.count(".return_sites"));
    CHECK(fixtures::symbol(*r.output, "cmdline_proc_show")->is_defined());
    CHECK(fixtures::symbol(*r.output, "proc_cmdline_init") == nullptr);
}

TEST_CASE("kernel identical builds: nothing changed", "[diff][kernel]")
{
    KERNEL_PAIR(k, "fs/proc/version.o", "identical");
    CHECK(k.run.result.outcome == Outcome::Unchanged);
}

TEST_CASE("kernel/: a changed exported function", "[diff][kernel]")
{
    KERNEL_PAIR(k, "kernel/kthread.o", "kthread-change");
    auto &r = k.run.result;
    REQUIRE(r.outcome == Outcome::Changed);
    CHECK(changed(k.run, "kthread_data"));
    CHECK(r.changed.size() == 1);
}

TEST_CASE("kernel/: a comment that moves lines changes nothing", "[diff][kernel][lines]")
{
    KERNEL_PAIR(k, "kernel/kthread.o", "kthread-lineshift");
    auto &r = k.run.result;
    CHECK(r.outcome == Outcome::Unchanged);
    CHECK(r.changed.empty());
    CHECK(!r.line_shift_only.empty());
}

TEST_CASE("kernel/ without DWARF: a comment that moves lines changes nothing", "[diff][kernel][lines][nodwarf]")
{
    // Before: 29 of kthread.o's functions changed (their __bug_table lines moved).
    KERNEL_PAIR(k, "kernel/kthread.o", "kthread-lineshift", true);
    REQUIRE(k.run.orig->find_section(".debug_line") == nullptr);
    auto &r = k.run.result;
    CHECK(r.outcome == Outcome::Unchanged);
    CHECK(r.changed.empty());
    CHECK(r.line_shift_only.size() > 20);
    CHECK(std::find(r.line_shift_only.begin(), r.line_shift_only.end(), "kthread_stop") != r.line_shift_only.end());
}

TEST_CASE("kernel/ without DWARF: a real change is still the only one", "[diff][kernel][nodwarf]")
{
    KERNEL_PAIR(k, "kernel/kthread.o", "kthread-change", true);
    auto &r = k.run.result;
    REQUIRE(r.outcome == Outcome::Changed);
    REQUIRE(r.changed.size() == 1);
    CHECK(r.changed[0].name == "kthread_data");
    CHECK(fixtures::symbol(*r.output, "kthread_data")->is_defined());
    CHECK(fixtures::symbol(*r.output, "kthread_stop") == nullptr);
}

TEST_CASE("mm/: a change in a function with a jump label", "[diff][kernel]")
{
    KERNEL_PAIR(k, "mm/usercopy.o", "usercopy-jump-label");
    auto &r = k.run.result;
    REQUIRE(r.outcome == Outcome::Changed);
    CHECK(changed(k.run, "__check_object_size"));
    CHECK(r.special_entries.count("__jump_table"));
}

TEST_CASE("arch/x86: a change in a function with alternatives", "[diff][kernel]")
{
    KERNEL_PAIR(k, "arch/x86/kernel/ldt.o", "ldt-alternative");
    auto &r = k.run.result;
    REQUIRE(r.outcome == Outcome::Changed);
    CHECK(changed(k.run, "load_mm_ldt"));
    CHECK(r.special_entries.count(".altinstructions"));
    CHECK(r.special_entries.count("__bug_table"));
}

TEST_CASE("kernel/: a changed function with a static local keeps the kernel's", "[diff][kernel]")
{
    KERNEL_PAIR(k, "kernel/panic.o", "panic-static-local");
    auto &r = k.run.result;
    REQUIRE(r.outcome == Outcome::Changed);
    CHECK(changed(k.run, "oops_may_print") == false);
    bool counter = false;
    for (auto &kr : r.klp)
        counter |= kr.symbol.rfind("spin_counter", 0) == 0;
    CHECK(counter);
    CHECK(r.new_data.empty());
}

TEST_CASE("kernel/: a changed data initializer is refused", "[diff][kernel][refuse]")
{
    KERNEL_PAIR(k, "kernel/panic.o", "panic-data-init");
    auto &r = k.run.result;
    REQUIRE(r.outcome == Outcome::Refused);
    CHECK_THAT(r.refusals.at(0), Catch::Contains("panic_timeout"));
}

TEST_CASE("fs/proc: a member added in the middle of a struct that changed functions use is refused",
          "[diff][kernel][refuse][layout]")
{
    // The integration suite's struct-layout.patch (a symbolic link), here without a VM.
    KERNEL_PAIR(k, "fs/proc/root.o", "root-layout");
    auto &r = k.run.result;
    REQUIRE(r.outcome == Outcome::Refused);
    REQUIRE(r.refusals.size() == 1);
    CHECK_THAT(r.refusals[0], Catch::Contains("struct `proc_fs_context`") &&
                                  Catch::Contains("member `flags` added at offset 12") &&
                                  Catch::Contains("member `hidepid` moved from offset 12 to offset 16") &&
                                  Catch::Contains("`proc_parse_param`"));
}

TEST_CASE("kernel fs/proc: an enumerator inserted into an enum used only as constants is refused",
          "[diff][kernel][enum]")
{
    KERNEL_PAIR(k, "fs/proc/root.o", "root-enum");
    auto &r = k.run.result;
    INFO((r.refusals.empty() ? std::string() : r.refusals[0]));
    REQUIRE(r.outcome == Outcome::Refused);
    REQUIRE(r.refusals.size() == 1);
    // proc_parse_param switches on the int fs_parse returns: the enum is no changed
    // function's type, only its constants are in the code.
    CHECK_THAT(r.refusals[0], Catch::StartsWith("enum `proc_param` (fs/proc/root.c) changed its values: ") &&
                                  Catch::Contains("enumerator `Opt_hidepid` changed value from 1 to 2") &&
                                  Catch::Contains("enumerator `Opt_subset` changed value from 2 to 3") &&
                                  Catch::Contains("`proc_parse_param`"));
    CHECK_THAT(r.refusals[0], !Catch::Contains("Opt_gid") && !Catch::Contains("Opt_unused"));
    CHECK(changed(k.run, "proc_parse_param"));
    CHECK(r.output == nullptr);
}

TEST_CASE("net/: a changed exported function", "[diff][kernel]")
{
    KERNEL_PAIR(k, "net/ipv4/tcp_cong.o", "tcp-cong-change");
    auto &r = k.run.result;
    REQUIRE(r.outcome == Outcome::Changed);
    CHECK(changed(k.run, "tcp_reno_ssthresh"));
    CHECK(r.changed.size() == 1);
}

TEST_CASE("kernel/: a static function whose name is not unique gets its position", "[diff][kernel][sympos]")
{
    if (env("KPATCH_TEST_KALLSYMS").empty())
        SKIP_TEST("set KPATCH_TEST_KALLSYMS to a copy of the target's /proc/kallsyms");
    KERNEL_PAIR(k, "kernel/kallsyms.o", "kallsyms-s_show");
    auto &r = k.run.result;
    REQUIRE(r.outcome == Outcome::Changed);
    REQUIRE(r.changed.size() == 1);
    CHECK(r.changed[0].name == "s_show");
    // s_show occurs several times in 6.1; kallsyms.o's copy is not the only one.
    CHECK(r.changed[0].sympos >= 1);
}

TEST_CASE("kernel/bpf: the interpreter's computed-goto table goes with the changed function", "[diff][kernel]")
{
    KERNEL_PAIR(k, "kernel/bpf/core.o", "bpf-computed-goto");
    auto &r = k.run.result;
    REQUIRE(r.outcome == Outcome::Changed);
    CHECK(changed(k.run, "___bpf_prog_run"));
    // The 256 label addresses must point into the new ___bpf_prog_run, not the kernel's.
    auto *table = k.run.result.output->find_section(".rodata..c_jump_table");
    REQUIRE(table);
    REQUIRE(table->relocations);
    CHECK(table->relocations->entries.size() == 256);
    for (auto &rel : table->relocations->entries) {
        REQUIRE(rel.symbol);
        CHECK(rel.symbol->is_defined());
        CHECK(rel.symbol->name.rfind("___bpf_prog_run", 0) == 0);
    }
    for (auto &kr : r.klp)
        CHECK(kr.symbol.find("jumptable") == std::string::npos);
}
