// Patch-module images for the loader fuzzer: a minimal ELF writer and raw header edits (licence: GPL-2.0-only).
#include "elf_image.hpp"

#include <fmt/format.h>

#include <cstring>

namespace kpatch::fuzz {

namespace {

constexpr std::size_t kEhdrSize = 64, kShdrSize = 64;

void put(std::string &image, std::size_t off, std::uint64_t value, std::size_t width)
{
    for (std::size_t i = 0; i < width && off + i < image.size(); ++i)
        image[off + i] = static_cast<char>(value >> (8 * i));
}

std::uint64_t get(const std::string &image, std::size_t off, std::size_t width)
{
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < width && off + i < image.size(); ++i)
        v |= std::uint64_t(static_cast<unsigned char>(image[off + i])) << (8 * i);
    return v;
}

void pad_to(std::string &out, std::size_t align)
{
    while (out.size() % align)
        out.push_back('\0');
}

struct Field {
    const char *name;
    std::size_t offset, width;
};

// The header fields the loader's reader (libelf, then our section walk) depends on.
constexpr Field kEhdrFields[] = {{"e_ident[EI_CLASS]", 4, 1}, {"e_ident[EI_DATA]", 5, 1}, {"e_type", 16, 2},
                                 {"e_shoff", 0x28, 8},         {"e_ehsize", 0x34, 2},        {"e_shentsize", 0x3a, 2},
                                 {"e_shnum", 0x3c, 2},         {"e_shstrndx", 0x3e, 2}};
constexpr Field kShdrFields[] = {{"sh_name", 0, 4},   {"sh_type", 4, 4},  {"sh_flags", 8, 8},      {"sh_offset", 24, 8},
                                 {"sh_size", 32, 8},  {"sh_link", 40, 4}, {"sh_addralign", 48, 8}, {"sh_entsize", 56, 8}};

// A value for an offset or size field: generic, or just past / at the end of the file.
std::uint64_t offset_value(Rng &rng, std::size_t file_size, std::uint64_t current)
{
    switch (rng.below(5)) {
    case 0: return file_size;
    case 1: return file_size + 1 + rng.below(64);
    case 2: return current + (rng.below(2) ? 1 : -1);
    case 3: return rng.below(file_size + 1);
    default: return rng.interesting();
    }
}

void mutate_ehdr(std::string &image, Rng &rng, std::string &what)
{
    const Field &f = kEhdrFields[rng.below(std::size(kEhdrFields))];
    std::uint64_t v = f.width == 8 ? offset_value(rng, image.size(), get(image, f.offset, 8)) : rng.interesting();
    put(image, f.offset, v, f.width);
    what += fmt::format(" {}={:#x}", f.name, v & (f.width == 8 ? ~0ull : (1ull << (8 * f.width)) - 1));
}

bool mutate_shdr(std::string &image, Rng &rng, std::string &what)
{
    auto t = section_table(image);
    if (!t || t->count == 0)
        return false;
    std::size_t index = rng.below(t->count);
    std::size_t base = t->offset + index * kShdrSize;
    const Field &f = kShdrFields[rng.below(std::size(kShdrFields))];
    std::uint64_t v = f.width == 8 ? offset_value(rng, image.size(), get(image, base + f.offset, 8)) : rng.interesting();
    if (f.offset == 4 && rng.percent(50))
        v = rng.pick(std::vector<std::uint64_t>{0, 2, 3, 7, 8, 9, 11});  // NULL, SYMTAB, STRTAB, NOTE, NOBITS, REL, DYNSYM
    put(image, base + f.offset, v, f.width);
    what += fmt::format(" shdr[{}].{}={:#x}", index, f.name, f.width == 8 ? v : v & 0xffffffffu);
    return true;
}

// Damages the section name table: NULs removed, bytes changed, or all zero.
bool mutate_strtab(std::string &image, Rng &rng, std::string &what)
{
    auto t = section_table(image);
    if (!t || t->strndx >= t->count)
        return false;
    std::size_t base = t->offset + t->strndx * kShdrSize;
    std::uint64_t off = get(image, base + 24, 8), size = get(image, base + 32, 8);
    if (off >= image.size() || size == 0)
        return false;
    size = std::min<std::uint64_t>(size, image.size() - off);
    switch (rng.below(3)) {
    case 0:
        for (std::uint64_t i = off; i < off + size; ++i)
            if (image[i] == '\0')
                image[i] = 'A';
        what += " shstrtab: no NULs";
        break;
    case 1:
        for (int n = 1 + rng.below(8); n > 0; --n)
            image[off + rng.below(size)] = static_cast<char>(rng.next());
        what += " shstrtab: bytes changed";
        break;
    default:
        std::memset(image.data() + off, 0, size);
        what += " shstrtab: zeroed";
    }
    return true;
}

void mutate_bytes(std::string &image, Rng &rng, std::string &what)
{
    static const std::string kMarker = "~Module signature appended~\n";
    switch (rng.below(5)) {
    case 0:
        for (int n = 1 + rng.below(16); n > 0 && !image.empty(); --n)
            image[rng.below(image.size())] ^= static_cast<char>(1 + rng.below(255));
        what += " bytes flipped";
        break;
    case 1: {
        std::size_t at = rng.percent(50) ? rng.below(std::min<std::size_t>(image.size(), 256)) : rng.below(image.size());
        image.resize(at);
        what += fmt::format(" truncated to {}", at);
        break;
    }
    case 2:
        image += rng.percent(50) ? kMarker : std::string(1 + rng.below(4096), static_cast<char>(rng.next()));
        what += " appended";
        break;
    case 3: {
        std::size_t at = rng.below(image.size() + 1), n = std::min<std::size_t>(1 + rng.below(512), image.size() - at);
        image.erase(at, n);
        what += fmt::format(" {} bytes cut at {}", n, at);
        break;
    }
    default:
        for (int n = 1 + rng.below(8); n > 0 && !image.empty(); --n)
            image[rng.below(image.size())] = static_cast<char>(rng.pick(std::vector<int>{0, 0xff, 0x7f, 0x80, '=', '{'}));
        what += " bytes set";
    }
}

} // namespace

std::string build_elf(const std::vector<Section> &sections)
{
    std::string out(kEhdrSize, '\0');
    std::string names(1, '\0');
    struct Placed { std::uint32_t name; std::uint64_t offset, size; std::uint32_t type; };
    std::vector<Placed> placed;
    for (const auto &s : sections) {
        pad_to(out, 8);
        placed.push_back({static_cast<std::uint32_t>(names.size()), out.size(), s.data.size(), s.type});
        names += s.name + '\0';
        if (s.type != 8)  // SHT_NOBITS occupies no file space
            out += s.data;
    }
    std::uint32_t shstrtab_name = names.size();
    names += std::string(".shstrtab") + '\0';
    placed.push_back({shstrtab_name, out.size(), names.size(), 3});
    out += names;
    pad_to(out, 8);
    std::uint64_t shoff = out.size();
    out += std::string(kShdrSize, '\0');  // section 0
    for (const auto &p : placed) {
        std::string sh(kShdrSize, '\0');
        put(sh, 0, p.name, 4);
        put(sh, 4, p.type, 4);
        put(sh, 24, p.offset, 8);
        put(sh, 32, p.size, 8);
        put(sh, 48, 1, 8);
        out += sh;
    }
    std::memcpy(out.data(), "\x7f" "ELF\x02\x01\x01", 7);  // 64-bit, little endian, version 1
    put(out, 16, 1, 2);                                     // ET_REL
    put(out, 18, 62, 2);                                    // EM_X86_64
    put(out, 20, 1, 4);
    put(out, 0x28, shoff, 8);
    put(out, 0x34, kEhdrSize, 2);
    put(out, 0x3a, kShdrSize, 2);
    put(out, 0x3c, placed.size() + 1, 2);
    put(out, 0x3e, placed.size(), 2);
    return out;
}

std::optional<SectionTable> section_table(const std::string &image)
{
    if (image.size() < kEhdrSize || image.compare(0, 4, "\x7f" "ELF") != 0 || image[4] != 2)
        return std::nullopt;
    SectionTable t{get(image, 0x28, 8), static_cast<std::uint16_t>(get(image, 0x3c, 2)),
                   static_cast<std::uint16_t>(get(image, 0x3e, 2))};
    if (t.offset > image.size() || (image.size() - t.offset) / kShdrSize < t.count)
        return std::nullopt;
    return t;
}

void mutate_elf(std::string &image, Rng &rng, std::string &what)
{
    switch (rng.below(4)) {
    case 0:
        if (image.size() >= kEhdrSize) {
            mutate_ehdr(image, rng, what);
            return;
        }
        break;
    case 1:
        if (mutate_shdr(image, rng, what))
            return;
        break;
    case 2:
        if (mutate_strtab(image, rng, what))
            return;
        break;
    default:
        break;
    }
    mutate_bytes(image, rng, what);
}

} // namespace kpatch::fuzz
