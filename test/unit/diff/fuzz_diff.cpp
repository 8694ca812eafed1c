// libFuzzer target: parse arbitrary bytes as the patched object and diff them against a real
// original, then write the result; anything may fail, nothing may crash (licence: GPL-2.0-only).
#include <cstdlib>
#include <memory>

#include "diff/diff.hpp"
#include "elf/object.hpp"

namespace {
const kpatch::elf::Object *original()
{
    static std::unique_ptr<kpatch::elf::Object> orig = [] {
        const char *path = std::getenv("KPATCH_FUZZ_ORIG");
        auto o = kpatch::elf::read_object(path ? path : "");
        return o ? std::move(*o) : nullptr;
    }();
    return orig.get();
}
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    auto patched = kpatch::elf::parse_object(std::vector<uint8_t>(data, data + size), "fuzz.o");
    if (!patched)
        return 0;
    (void)kpatch::diff::run_diff(**patched, **patched, {});
    if (const auto *orig = original()) {
        auto r = kpatch::diff::run_diff(*orig, **patched, {});
        if (r && r->output)
            (void)kpatch::elf::write_object(*r->output, "/dev/null");
    }
    return 0;
}
