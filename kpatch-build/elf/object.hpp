// The object model of a relocatable ELF file: sections, symbols, relocations (licence: GPL-2.0-only).
//
// Shaped like LLVM objcopy's: the Object owns sections and symbols through unique_ptr; a
// symbol points at its section, a relocation at its symbol, a relocation section at the
// section it applies to. Every element remembers the index it had in the file it came
// from. The symbol table, its string table and the section-name string table are not
// sections of the model: the writer makes them from the symbols and sections.
// Only elf/reader.cpp and elf/writer.cpp touch libelf.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <kpatch/expected.hpp>

namespace kpatch::elf {

// Linux livepatch ELF constants (include/uapi/linux/elf.h); glibc's elf.h lacks them.
constexpr uint16_t SHN_LIVEPATCH = 0xff20;
constexpr uint64_t SHF_RELA_LIVEPATCH = 0x00100000;

class Section;
class RelocationSection;

// Where a symbol lives, for the symbols that are not in a section of the model.
enum class Placement { InSection, Undefined, Absolute, Common, Livepatch };

struct Symbol {
    std::string name;
    uint8_t bind = 0;       // STB_*
    uint8_t type = 0;       // STT_*
    uint8_t other = 0;      // st_other (visibility)
    Placement placement = Placement::Undefined;
    Section *section = nullptr;  // set iff placement == InSection
    uint64_t value = 0;
    uint64_t size = 0;
    uint32_t original_index = 0; // index in the input symbol table; 0 for new symbols

    bool is_defined() const { return placement == Placement::InSection; }
    bool is_local() const;
    bool is_function() const;
    bool is_object() const;
    bool is_section_symbol() const;
};

struct Relocation {
    uint64_t offset = 0;
    uint32_t type = 0;
    Symbol *symbol = nullptr;    // null only for relocations against symbol 0
    int64_t addend = 0;
};

class Section {
public:
    virtual ~Section() = default;

    std::string name;
    uint32_t type = 0;           // SHT_*
    uint64_t flags = 0;          // SHF_*
    uint64_t addralign = 1;
    uint64_t entsize = 0;
    std::vector<uint8_t> data;   // empty for SHT_NOBITS
    uint64_t nobits_size = 0;    // the size of an SHT_NOBITS section
    uint32_t original_index = 0; // index in the input file; 0 for new sections
    RelocationSection *relocations = nullptr; // the .rela section that applies here, if any
    Symbol *section_symbol = nullptr;         // its STT_SECTION symbol, if any

    uint64_t size() const;
    bool is_text() const;
    bool is_string_table_like() const;        // SHF_MERGE|SHF_STRINGS
};

class RelocationSection : public Section {
public:
    Section *target = nullptr;
    std::vector<Relocation> entries;
};

class Object {
public:
    std::string path;            // for messages only
    uint16_t machine = 0;        // e_machine
    uint8_t osabi = 0;
    uint32_t e_flags = 0;

    std::vector<std::unique_ptr<Section>> sections; // in file order
    std::vector<std::unique_ptr<Symbol>> symbols;   // in file order, without symbol 0

    Section *find_section(std::string_view name) const;
    Symbol *find_symbol(std::string_view name) const;

    Section &add_section(std::unique_ptr<Section> section);
    // Creates the relocation section for `target` if it has none.
    RelocationSection &relocations_for(Section &target);
    Symbol &add_symbol(std::unique_ptr<Symbol> symbol);
    // The STT_SECTION symbol of `section`, made if missing.
    Symbol &section_symbol_of(Section &section);

    // The defined non-section symbols of a section, by value.
    std::vector<Symbol *> symbols_in(const Section &section) const;
};

// Reading (reader.cpp): the whole file is read into memory and parsed; every check that
// can fail on a malformed file returns an Error naming the file and what is wrong.
Expected<std::unique_ptr<Object>> read_object(const std::string &path);
Expected<std::unique_ptr<Object>> parse_object(std::vector<uint8_t> bytes, const std::string &name);

// Writing (writer.cpp): finalizes (indices, string and symbol tables) and serializes.
Expected<void> write_object(const Object &object, const std::string &path);

} // namespace kpatch::elf
