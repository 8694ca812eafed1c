// The differ's output depends on its input only: the same pair of objects gives the same bytes, whatever the heap looks like (licence: GPL-2.0-only).
//
// The passes keep many maps keyed by symbol and section pointers; iterating one of them
// makes the result follow heap addresses. These tests run the differ on the same input
// under different allocation patterns and compare what comes out byte for byte.
#include <algorithm>
#include <elf.h>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "diff/passes.hpp"
#include "fixtures.hpp"

using namespace kpatch;

namespace {

// Heap blocks of assorted sizes held while objects are read, so that the second run's
// symbols and sections land at other addresses (and in other hash buckets) than the first's.
struct HeapShift {
    std::vector<std::unique_ptr<char[]>> blocks;
    void grow(unsigned seed, unsigned count)
    {
        for (unsigned i = 0; i < count; i++) {
            seed = seed * 1103515245u + 12345u;
            blocks.push_back(std::make_unique<char[]>(16 + (seed >> 16) % 700));
        }
    }
};

std::string file_bytes(const std::string &path)
{
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Everything the differ says about one pair: outcome, manifest and output object bytes.
std::string run_once(const std::string &name, HeapShift *shift, bool patched_first)
{
    std::unique_ptr<elf::Object> orig, patched;
    if (shift)
        shift->grow(7, 300);
    if (patched_first)
        patched = fixtures::load("patched", name);
    orig = fixtures::load("orig", name);
    if (shift)
        shift->grow(11, 500);
    if (!patched_first)
        patched = fixtures::load("patched", name);
    diff::Options opt;
    opt.object_path = name + ".o";
    auto r = diff::run_diff(*orig, *patched, opt);
    if (!r)
        return "error: " + r.error().message;
    std::string out = std::to_string(static_cast<int>(r->outcome)) + "\n" + diff::manifest_json(*r, opt, true);
    if (r->output) {
        std::string path = "/tmp/kpatch-determinism-" + std::to_string(getpid()) + ".o";
        auto ok = elf::write_object(*r->output, path);
        out += ok ? file_bytes(path) : "write error: " + ok.error().message;
        unlink(path.c_str());
    }
    return out;
}

// The fixture pairs: every orig/NAME.o with a patched/NAME.o, in name order.
std::vector<std::string> fixture_names()
{
    namespace fs = std::filesystem;
    std::vector<std::string> names;
    std::error_code ec;
    for (auto &e : fs::directory_iterator(fixtures::dir() + "/orig", ec))
        if (e.path().extension() == ".o" && fs::exists(fixtures::dir() + "/patched/" + e.path().filename().string()))
            names.push_back(e.path().stem().string());
    std::sort(names.begin(), names.end());
    return names;
}

} // namespace

TEST_CASE("the same input gives byte-identical output under other allocation patterns", "[diff][determinism]")
{
    REQUIRE_FIXTURES();
    auto names = fixture_names();
    REQUIRE(names.size() > 20);
    for (auto &name : names) {
        INFO("fixture " << name);
        std::string first = run_once(name, nullptr, false);
        HeapShift shift;
        CHECK(run_once(name, &shift, true) == first);
        CHECK(run_once(name, nullptr, false) == first);
    }
}

namespace {

std::unique_ptr<elf::Section> text_section(const std::string &name)
{
    auto s = std::make_unique<elf::Section>();
    s->name = name;
    s->type = SHT_PROGBITS;
    s->flags = SHF_ALLOC | SHF_EXECINSTR;
    s->data.assign(32, 0xc3);
    return s;
}

void add_function(elf::Object &o, const std::string &name, elf::Section &in, uint64_t at)
{
    auto f = std::make_unique<elf::Symbol>();
    f->name = name;
    f->bind = STB_GLOBAL;
    f->type = STT_FUNC;
    f->placement = elf::Placement::InSection;
    f->section = &in;
    f->value = at;
    f->size = 16;
    o.add_symbol(std::move(f));
}

} // namespace

// A patched section holding several functions whose twins live in sections of their own:
// which one it pairs with must not depend on where the symbols were allocated.
TEST_CASE("a section pairs through its first symbol in symbol-table order", "[diff][determinism][correlate]")
{
    auto arch = arch::Arch::for_machine(EM_X86_64);
    REQUIRE(arch);
    constexpr unsigned n = 12;
    for (unsigned round = 0; round < 48; round++) {
        HeapShift shift;
        elf::Object orig, patched;
        orig.machine = patched.machine = EM_X86_64;
        std::vector<elf::Section *> own;
        for (unsigned i = 0; i < n; i++) {
            own.push_back(&orig.add_section(text_section(".text.f" + std::to_string(i))));
            add_function(orig, "f" + std::to_string(i), *own.back(), 0);
            shift.grow(round + i, round % 7 + i);
        }
        auto &all = patched.add_section(text_section(".text.all"));
        all.data.assign(16 * n, 0xc3);
        unsigned first = round % n;   // the patched symbol table starts at f<first>
        for (unsigned k = 0; k < n; k++) {
            unsigned i = (first + k) % n;
            add_function(patched, "f" + std::to_string(i), all, 16 * i);
            shift.grow(round * 3 + k, (round + k) % 5);
        }
        diff::CodeIndex io(**arch, orig), ip(**arch, patched);
        diff::Correlation c = diff::correlate(io, ip);
        INFO("round " << round);
        CHECK(c.twin(&all) == own[first]);
    }
}
