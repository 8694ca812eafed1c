// Tests of the generated patch-module pieces: name, manifest, C source (licence:
// GPL-2.0-only).
#include <catch2/catch.hpp>

#include "kmod_sources.hpp"
#include "module.hpp"

using namespace kpatch::driver;

TEST_CASE("module names are module-safe and bounded", "[module]")
{
    CHECK(module_name_for("", "/x/fix cve.patch") == "kpatch-fix-cve");
    CHECK(module_name_for("", "a.b.diff") == "kpatch-a-b");
    CHECK(module_name_for("mine", "x.patch") == "mine");
    CHECK(module_name_for(std::string(80, 'a'), "x.patch").size() == 55);
}

TEST_CASE("the manifest lists replaced and new functions from the differ", "[module]")
{
    Target t;
    t.release = "6.1.0-56-amd64";
    t.package_version = "6.1.192-2";
    KernelId k{"abcd", "6.1.0-56-amd64 (x) #1", "/boot/vmlinuz"};
    PatchSet p;
    p.patches.push_back({"/tmp/fix.patch", "11", {"fs/proc/cmdline.c"}, {}, 1});
    p.sha256 = "11";
    DiffOutput d{"fs/proc/cmdline.o", "/tmp/x.o",
                 {{"changed_functions", {{{"name", "cmdline_proc_show"}, {"old_name", "cmdline_proc_show"},
                                          {"sympos", 0}, {"old_size", 42}, {"new_size", 57}}}},
                  {"new_functions", {"helper"}}}};
    auto m = module_manifest("kpatch-fix", t, k, p, {d});
    CHECK(m["module"] == "kpatch_fix");
    CHECK(m["kernel_release"] == "6.1.0-56-amd64");
    CHECK(m["build_id"] == "abcd");
    CHECK(m["patch_sha256"] == "11");
    REQUIRE(m["replaced"].size() == 1);
    CHECK(m["replaced"][0]["name"] == "cmdline_proc_show");
    CHECK(m["replaced"][0]["object"] == "vmlinux");
    CHECK(m["new"][0]["name"] == "helper");

    std::string src = module_source(m);
    CHECK_THAT(src, Catch::Contains("struct kpatch_patch_desc kpatch_patch = {"));
    CHECK_THAT(src, Catch::Contains("MODULE_INFO(kpatch_kernel, \"6.1.0-56-amd64\")"));
    CHECK_THAT(src, Catch::Contains("MODULE_INFO(kpatch_replaced, \"cmdline_proc_show\")"));
    CHECK_THAT(src, Catch::Contains("__section(\".kpatch.manifest\")"));
    CHECK_THAT(src, Catch::Contains("\\\"kernel_release\\\":\\\"6.1.0-56-amd64\\\""));
}

TEST_CASE("the manifest keeps a replaced function's other names, in its one entry", "[module]")
{
    Target t;
    t.release = "6.1.0-56-amd64";
    KernelId k{"abcd", "6.1.0-56-amd64 (x) #1", "/boot/vmlinuz"};
    PatchSet p;
    DiffOutput d{"kernel/sys.o", "/tmp/x.o",
                 {{"changed_functions", {{{"name", "SyS_foo"}, {"old_name", "SyS_foo"}, {"sympos", 0},
                                          {"old_size", 9}, {"new_size", 9}, {"old_aliases", {"sys_foo"}}},
                                         {{"name", "bar"}, {"old_name", "bar"}, {"old_aliases", nlohmann::json::array()}}}}}};
    auto m = module_manifest("kpatch-fix", t, k, p, {d});
    REQUIRE(m["replaced"].size() == 2);
    CHECK(m["replaced"][0]["name"] == "SyS_foo");
    CHECK(m["replaced"][0]["aliases"] == nlohmann::json::array({"sys_foo"}));
    CHECK(!m["replaced"][1].contains("aliases"));
}

TEST_CASE("--replace marks the generated module cumulative, and only then", "[module]")
{
    nlohmann::json m = {{"module", "kpatch_fix"},
                        {"kernel_release", "6.1.0-57-amd64"},
                        {"patches", nlohmann::json::array({{{"file", "fix.patch"}}})},
                        {"replaced", nlohmann::json::array({{{"name", "cmdline_proc_show"}}})},
                        {"new", nlohmann::json::array()}};
    std::string plain = module_source(m);
    CHECK_THAT(plain, !Catch::Contains("KPATCH_PATCH_REPLACE"));
    CHECK_THAT(plain, !Catch::Contains("kpatch_replace,"));

    m["replace"] = true;
    std::string cumulative = module_source(m);
    // The flag is in the description the core reads, before its closing brace.
    auto desc = cumulative.find("struct kpatch_patch_desc kpatch_patch = {");
    auto flags = cumulative.find("\t.flags = KPATCH_PATCH_REPLACE,\n");
    REQUIRE(desc != std::string::npos);
    REQUIRE(flags != std::string::npos);
    CHECK(flags > desc);
    CHECK(flags < cumulative.find("};", desc));
    CHECK_THAT(cumulative, Catch::Contains("MODULE_INFO(kpatch_replace, \"1\");"));
}

TEST_CASE("the fixed part of a patch module registers the generated description", "[module]")
{
    // kmod/patch/kp-init.c, embedded: it reads the entries through kpatch.h's struct and
    // names the description kp-main.c defines.
    std::string init = kPatchInitSource;
    CHECK_THAT(init, Catch::Contains("#include \"kpatch.h\""));
    CHECK_THAT(init, Catch::Contains("extern struct kpatch_patch_desc kpatch_patch;"));
    CHECK_THAT(init, Catch::Contains("kpatch_register_patch(&kpatch_patch)"));
    CHECK_THAT(init, Catch::Contains("module_init(kpatch_patch_init);"));
    CHECK_THAT(std::string(kKpatchHeader), Catch::Contains("struct kpatch_funcs_entry {"));
    nlohmann::json m = {{"patches", nlohmann::json::array()}, {"replaced", nlohmann::json::array()},
                        {"new", nlohmann::json::array()}, {"kernel_release", "6.1.0-57-amd64"}};
    std::string src = module_source(m);
    CHECK_THAT(src, !Catch::Contains("static struct kpatch_patch_desc kpatch_patch"));
    CHECK_THAT(src, !Catch::Contains("module_init"));
}
