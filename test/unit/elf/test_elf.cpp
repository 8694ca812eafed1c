// The ELF object model: what it reads it writes back, and bad input is an error, never a crash (licence: GPL-2.0-only).
#include <cstring>
#include <elf.h>
#include <fstream>
#include <iterator>
#include <random>
#include <set>
#include <unistd.h>

#include "fixtures.hpp"

using namespace kpatch;

namespace {

std::vector<uint8_t> bytes_of(const std::string &path)
{
    std::ifstream f(path, std::ios::binary);
    return std::vector<uint8_t>(std::istreambuf_iterator<char>(f), {});
}

std::string fixture_path(const std::string &name) { return fixtures::dir() + "/orig/" + name + ".o"; }

template <typename T> void put(std::vector<uint8_t> &b, size_t at, T v) { std::memcpy(b.data() + at, &v, sizeof v); }
template <typename T> T get(const std::vector<uint8_t> &b, size_t at) { T v; std::memcpy(&v, b.data() + at, sizeof v); return v; }

std::string error_of(std::vector<uint8_t> b)
{
    auto o = elf::parse_object(std::move(b), "test.o");
    return o ? std::string() : o.error().message;
}

} // namespace

TEST_CASE("an object read and written back is the same object", "[elf]")
{
    REQUIRE_FIXTURES();
    auto a = elf::read_object(fixture_path("once"));
    REQUIRE(a);
    char tmpl[] = "/tmp/test-elf-XXXXXX";
    int fd = mkstemp(tmpl);
    REQUIRE(fd >= 0);
    close(fd);
    REQUIRE(elf::write_object(**a, tmpl));
    auto b = elf::read_object(tmpl);
    unlink(tmpl);
    REQUIRE(b);
    const elf::Object &x = **a, &y = **b;
    CHECK(x.machine == y.machine);
    REQUIRE(x.sections.size() == y.sections.size());
    for (size_t i = 0; i < x.sections.size(); i++) {
        const auto &s = *x.sections[i], &t = *y.sections[i];
        CHECK(s.name == t.name);
        CHECK(s.type == t.type);
        CHECK(s.flags == t.flags);
        CHECK(s.size() == t.size());
        CHECK(s.data == t.data);
        CHECK(s.addralign == t.addralign);
        if (s.type == SHT_RELA) {
            auto &r = static_cast<const elf::RelocationSection &>(s);
            auto &q = static_cast<const elf::RelocationSection &>(t);
            CHECK(r.target->name == q.target->name);
            REQUIRE(r.entries.size() == q.entries.size());
            for (size_t k = 0; k < r.entries.size(); k++) {
                CHECK(r.entries[k].offset == q.entries[k].offset);
                CHECK(r.entries[k].type == q.entries[k].type);
                CHECK(r.entries[k].addend == q.entries[k].addend);
                CHECK(r.entries[k].symbol->name == q.entries[k].symbol->name);
            }
        }
    }
    // Symbols: the same set (the writer puts locals first, so compare by name and kind).
    auto key = [](const elf::Symbol &s) {
        return s.name + "/" + std::to_string(s.bind) + "/" + std::to_string(s.type) + "/" +
               (s.section ? s.section->name : "-") + "/" + std::to_string(s.value) + "/" + std::to_string(s.size);
    };
    std::multiset<std::string> ks, kt;
    for (auto &s : x.symbols) ks.insert(key(*s));
    for (auto &s : y.symbols) kt.insert(key(*s));
    CHECK(ks == kt);
}

TEST_CASE("input that is not a 64-bit little-endian relocatable ELF is an error", "[elf][errors]")
{
    CHECK_THAT(error_of({'h', 'e', 'l', 'l', 'o'}), Catch::Contains("not an ELF file"));
    CHECK_THAT(error_of({}), Catch::Contains("test.o"));
    REQUIRE_FIXTURES();
    auto good = bytes_of(fixture_path("changed"));
    REQUIRE(error_of(good).empty());

    auto b32 = good;
    b32[EI_CLASS] = ELFCLASS32;
    CHECK(!error_of(b32).empty());

    auto exec = good;
    put<uint16_t>(exec, offsetof(Elf64_Ehdr, e_type), ET_EXEC);
    CHECK_THAT(error_of(exec), Catch::Contains("relocatable"));

    auto be = good;
    be[EI_DATA] = ELFDATA2MSB;
    CHECK(!error_of(be).empty());
}

TEST_CASE("an object without a symbol table is an error", "[elf][errors]")
{
    REQUIRE_FIXTURES();
    auto b = bytes_of(fixture_path("changed"));
    auto shoff = get<uint64_t>(b, offsetof(Elf64_Ehdr, e_shoff));
    auto shnum = get<uint16_t>(b, offsetof(Elf64_Ehdr, e_shnum));
    for (unsigned i = 0; i < shnum; i++) {
        size_t at = shoff + i * sizeof(Elf64_Shdr) + offsetof(Elf64_Shdr, sh_type);
        if (get<uint32_t>(b, at) == SHT_SYMTAB)
            put<uint32_t>(b, at, SHT_PROGBITS);
    }
    CHECK_THAT(error_of(b), Catch::Contains("no symbol table"));
}

TEST_CASE("a truncated object is an error at every length", "[elf][errors]")
{
    REQUIRE_FIXTURES();
    auto good = bytes_of(fixture_path("changed"));
    size_t step = std::max<size_t>(1, good.size() / 97);
    for (size_t n = 0; n < good.size(); n += step) {
        std::vector<uint8_t> cut(good.begin(), good.begin() + n);
        INFO("length " << n);
        CHECK(!error_of(cut).empty());
    }
}

TEST_CASE("corrupted headers and tables give errors or objects, never crashes", "[elf][errors]")
{
    REQUIRE_FIXTURES();
    auto good = bytes_of(fixture_path("once"));
    auto shoff = get<uint64_t>(good, offsetof(Elf64_Ehdr, e_shoff));
    std::mt19937 rng(12345);
    size_t errors = 0;
    for (int i = 0; i < 3000; i++) {
        auto b = good;
        // Mostly hit the headers, where the structure lives; sometimes anywhere.
        for (int k = 0; k < 4; k++) {
            size_t at = (rng() % 3 == 0) ? rng() % b.size()
                                         : std::min(b.size() - 1, shoff + rng() % (b.size() - shoff));
            b[at] = static_cast<uint8_t>(rng());
        }
        auto o = elf::parse_object(std::move(b), "fuzz.o");
        if (!o)
            errors++;
        else {
            // Whatever parses must also diff against itself without crashing.
            auto r = diff::run_diff(**o, **o, {});
            (void)r;
        }
    }
    CHECK(errors > 0);
}

TEST_CASE("an object for another machine is an error of the differ", "[elf][errors]")
{
    REQUIRE_FIXTURES();
    auto b = bytes_of(fixture_path("changed"));
    put<uint16_t>(b, offsetof(Elf64_Ehdr, e_machine), EM_AARCH64);
    auto o = elf::parse_object(b, "arm.o");
    REQUIRE(o);
    auto r = diff::run_diff(**o, **o, {});
    REQUIRE(!r);
    CHECK_THAT(r.error().message, Catch::Contains("unsupported architecture"));
    auto x86 = elf::read_object(fixture_path("changed"));
    REQUIRE(x86);
    auto mixed = diff::run_diff(**x86, **o, {});
    REQUIRE(!mixed);
    CHECK_THAT(mixed.error().message, Catch::Contains("different machines"));
}
