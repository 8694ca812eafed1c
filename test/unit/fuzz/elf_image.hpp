// Patch-module images for the loader fuzzer: a minimal ELF writer and raw header edits (licence: GPL-2.0-only).
#pragma once

#include "rng.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace kpatch::fuzz {

struct Section {
    std::string name;
    std::uint32_t type = 1;  // SHT_PROGBITS
    std::string data;
};

// An ELF64 little-endian x86_64 relocatable object with SECTIONS (plus the null section and
// .shstrtab), laid out as header, section data, string table, section headers.
std::string build_elf(const std::vector<Section> &sections);

// Where the section headers of IMAGE are, when its ELF header says so within the file.
struct SectionTable {
    std::uint64_t offset = 0;
    std::uint16_t count = 0;
    std::uint16_t strndx = 0;
};
std::optional<SectionTable> section_table(const std::string &image);

// One random edit of the ELF header, a section header, the section name table, or raw
// bytes; appends what it did to WHAT.
void mutate_elf(std::string &image, Rng &rng, std::string &what);

} // namespace kpatch::fuzz
