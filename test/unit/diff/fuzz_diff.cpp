// libFuzzer target: parse arbitrary bytes as the patched object and diff them against a real
// original, then write the result; anything may fail, nothing may crash (licence: GPL-2.0-only).
//
// The input goes through a file, as the program's inputs do, because the DWARF passes
// (line tables, type layouts) open the object by path. The original is the fixture whose
// source file (STT_FILE) the input names, so a mutant of any fixture reaches the passes
// after the "same source file" check; KPATCH_FUZZ_ORIG_DIR holds the originals
// (KPATCH_FUZZ_ORIG, one original, is the fallback).
#include <elf.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include "diff/diff.hpp"
#include "elf/object.hpp"

namespace {

using kpatch::elf::Object;

std::string source_file(const Object &o)
{
    for (auto &s : o.symbols)
        if (s->type == STT_FILE)
            return s->name;
    return {};
}

// The originals by source file name, read once.
const std::map<std::string, std::unique_ptr<Object>> &originals()
{
    static const auto all = [] {
        std::map<std::string, std::unique_ptr<Object>> m;
        auto add = [&m](const std::string &path) {
            if (auto o = kpatch::elf::read_object(path))
                m.emplace(source_file(**o), std::move(*o));
        };
        if (const char *dir = std::getenv("KPATCH_FUZZ_ORIG_DIR")) {
            std::error_code ec;
            for (auto &e : std::filesystem::directory_iterator(dir, ec))
                if (e.path().extension() == ".o")
                    add(e.path().string());
        }
        if (const char *one = std::getenv("KPATCH_FUZZ_ORIG"))
            add(one);
        return m;
    }();
    return all;
}

const Object *original_for(const Object &patched)
{
    auto &all = originals();
    auto it = all.find(source_file(patched));
    if (it != all.end())
        return it->second.get();
    return all.empty() ? nullptr : all.begin()->second.get();
}

// A per-process scratch file in memory.
const std::string &scratch_path()
{
    static const std::string path = "/dev/shm/kpatch-fuzz-" + std::to_string(getpid()) + ".o";
    return path;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const std::string &path = scratch_path();
    if (FILE *f = std::fopen(path.c_str(), "wb")) {
        bool ok = std::fwrite(data, 1, size, f) == size;
        ok = std::fclose(f) == 0 && ok;
        if (!ok)
            return 0;
    } else {
        return 0;
    }
    auto patched = kpatch::elf::read_object(path);
    if (!patched)
        return 0;
    (void)kpatch::diff::run_diff(**patched, **patched, {});
    if (const Object *orig = original_for(**patched)) {
        auto r = kpatch::diff::run_diff(*orig, **patched, {});
        if (r && r->output)
            (void)kpatch::elf::write_object(*r->output, "/dev/null");
        if (r)
            (void)kpatch::diff::manifest_json(*r, {}, false);
    }
    return 0;
}
