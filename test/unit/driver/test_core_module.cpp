// Tests of the core module's embedding and cache key: the driver carries every file of
// kmod/core and kmod/include, and a core is cached per kernel, build and core sources
// (licence: GPL-2.0-only).
#include <catch2/catch.hpp>

#include <filesystem>
#include <set>

#include "core_module.hpp"
#include "kmod_sources.hpp"

using namespace kpatch::driver;
namespace fs = std::filesystem;

TEST_CASE("the embedded core sources are exactly kmod/core and kmod/include, as they are",
          "[core-module]")
{
    std::set<std::string> on_disk, embedded;
    for (const char *sub : {"core", "include"})
        for (const auto &e : fs::directory_iterator(fs::path(KPATCH_TEST_KMOD_DIR) / sub)) {
            std::string name = e.path().filename().string();
            if (name == "Kbuild" || name.ends_with(".c") || name.ends_with(".h"))
                on_disk.insert(std::string(sub) + "/" + name);
        }
    for (const EmbeddedFile &f : kCoreSources) {
        embedded.insert(f.path);
        auto text = read_text(std::string(KPATCH_TEST_KMOD_DIR) + "/" + f.path);
        REQUIRE(text);
        CHECK(*text == f.text); // a stale build would build yesterday's core
    }
    CHECK(embedded == on_disk);
    CHECK(embedded.count("core/Kbuild") == 1);
}

TEST_CASE("a core is cached per release, package version, tree and core sources", "[core-module]")
{
    Target t;
    t.release = "6.1.0-56-amd64";
    t.package_version = "6.1.192-2";
    PreparedTree tree;
    tree.key = "6.1.0-56-amd64-0123456789ab";
    std::string dir = core_cache_dir("/c", t, tree, "s1");
    CHECK(dir.starts_with("/c/core/6.1.0-56-amd64/6.1.192-2-"));
    CHECK(core_cache_dir("/c", t, tree, "s2") != dir);
    PreparedTree other = tree;
    other.key = "6.1.0-56-amd64-ba9876543210";
    CHECK(core_cache_dir("/c", t, other, "s1") != dir);
    Target custom = t;
    custom.package_version = "";
    CHECK(core_cache_dir("/c", custom, tree, "s1").starts_with("/c/core/6.1.0-56-amd64/custom-"));
    CHECK(core_sources_hash().size() == 64);
}
