// Test helpers: the differ's C fixtures, compiled once at test time with the kernel's flags (licence: GPL-2.0-only).
#pragma once

#include <cstdlib>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "skip.hpp"

#include "diff/diff.hpp"
#include "elf/object.hpp"

namespace fixtures {

// Directory holding orig/NAME.o and patched/NAME.o, or "" when they cannot be built here
// (no kernel headers); the build script runs once per source state (it keeps a stamp).
inline const std::string &dir()
{
    static const std::string result = [] {
        const char *script = std::getenv("KPATCH_FIXTURE_SCRIPT");
        const char *src = std::getenv("KPATCH_FIXTURE_SRC");
        const char *out = std::getenv("KPATCH_FIXTURE_OUT");
        if (!script || !src || !out)
            return std::string();
        std::string cmd = std::string("sh '") + script + "' '" + src + "' '" + out + "'";
        int rc = std::system(cmd.c_str());
        if (rc != 0)
            return std::string();
        return std::string(out);
    }();
    return result;
}

// Skips the calling test when fixtures are unavailable.
#define REQUIRE_FIXTURES()                                                          \
    do {                                                                            \
        if (fixtures::dir().empty())                                                \
            SKIP_TEST("C fixtures could not be built (no kernel headers?)");        \
    } while (0)

inline std::unique_ptr<kpatch::elf::Object> load_path(const std::string &path)
{
    auto o = kpatch::elf::read_object(path);
    if (!o)
        FAIL(o.error().message);
    return std::move(*o);
}

inline std::unique_ptr<kpatch::elf::Object> load(const std::string &side, const std::string &name)
{
    return load_path(dir() + "/" + side + "/" + name + ".o");
}

struct Run {
    std::unique_ptr<kpatch::elf::Object> orig, patched;
    kpatch::diff::DiffResult result;
};

// Diffs fixture `name` with `options`; fails the test on an Error.
inline Run diff(const std::string &name, const kpatch::diff::Options &options = {})
{
    Run r;
    r.orig = load("orig", name);
    r.patched = load("patched", name);
    auto res = kpatch::diff::run_diff(*r.orig, *r.patched, options);
    if (!res)
        FAIL(res.error().message);
    r.result = std::move(*res);
    return r;
}

inline const kpatch::elf::Symbol *symbol(const kpatch::elf::Object &o, const std::string &name)
{
    for (auto &s : o.symbols)
        if (s->name == name)
            return s.get();
    return nullptr;
}

// The names the relocations of section `sec` of `o` refer to (a section's name for a
// section symbol; "" for none).
inline std::vector<std::string> relocation_targets(const kpatch::elf::Object &o, const std::string &sec)
{
    std::vector<std::string> out;
    auto *s = o.find_section(sec);
    if (!s || !s->relocations)
        return out;
    for (auto &r : s->relocations->entries)
        out.push_back(r.symbol ? (r.symbol->is_section_symbol() ? r.symbol->section->name : r.symbol->name) : "");
    return out;
}

} // namespace fixtures
