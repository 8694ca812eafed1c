// Model methods of the ELF object: lookups and additions that keep references valid (licence: GPL-2.0-only).
#include "elf/object.hpp"

#include <algorithm>
#include <elf.h>

namespace kpatch::elf {

bool Symbol::is_local() const { return bind == STB_LOCAL; }
bool Symbol::is_function() const { return type == STT_FUNC; }
bool Symbol::is_object() const { return type == STT_OBJECT || type == STT_TLS; }
bool Symbol::is_section_symbol() const { return type == STT_SECTION; }

uint64_t Section::size() const { return type == SHT_NOBITS ? nobits_size : data.size(); }
bool Section::is_text() const { return (flags & SHF_EXECINSTR) != 0; }
bool Section::is_string_table_like() const
{
    return (flags & (SHF_MERGE | SHF_STRINGS)) == (SHF_MERGE | SHF_STRINGS);
}

Section *Object::find_section(std::string_view name) const
{
    for (auto &s : sections)
        if (s->name == name)
            return s.get();
    return nullptr;
}

Symbol *Object::find_symbol(std::string_view name) const
{
    for (auto &s : symbols)
        if (s->name == name && !s->is_section_symbol())
            return s.get();
    return nullptr;
}

Section &Object::add_section(std::unique_ptr<Section> section)
{
    sections.push_back(std::move(section));
    return *sections.back();
}

RelocationSection &Object::relocations_for(Section &target)
{
    if (target.relocations)
        return *target.relocations;
    auto rela = std::make_unique<RelocationSection>();
    rela->name = ".rela" + target.name;
    rela->type = SHT_RELA;
    rela->flags = SHF_INFO_LINK;
    rela->addralign = 8;
    rela->entsize = sizeof(Elf64_Rela);
    rela->target = &target;
    target.relocations = rela.get();
    return static_cast<RelocationSection &>(add_section(std::move(rela)));
}

Symbol &Object::add_symbol(std::unique_ptr<Symbol> symbol)
{
    symbols.push_back(std::move(symbol));
    return *symbols.back();
}

Symbol &Object::section_symbol_of(Section &section)
{
    if (section.section_symbol)
        return *section.section_symbol;
    auto sym = std::make_unique<Symbol>();
    sym->type = STT_SECTION;
    sym->bind = STB_LOCAL;
    sym->placement = Placement::InSection;
    sym->section = &section;
    section.section_symbol = sym.get();
    return add_symbol(std::move(sym));
}

std::vector<Symbol *> Object::symbols_in(const Section &section) const
{
    std::vector<Symbol *> out;
    for (auto &s : symbols)
        if (s->section == &section && !s->is_section_symbol() && s->type != STT_FILE)
            out.push_back(s.get());
    std::stable_sort(out.begin(), out.end(),
                     [](const Symbol *a, const Symbol *b) { return a->value < b->value; });
    return out;
}

} // namespace kpatch::elf
