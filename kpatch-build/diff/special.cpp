// Special sections: the per-instruction tables of the kernel, split into entries and tied to the code they describe (licence: GPL-2.0-only).
//
// Each entry's first field locates the instruction it describes (a relocation at entry
// offset 0 into a text section); that text section is the entry's owner. The ORC tables
// are parallel arrays: entry i of .orc_unwind belongs to the owner of entry i of
// .orc_unwind_ip. Sizes are those of Linux 6.1 on x86-64 unless sh_entsize or an
// override (from kpatch-build's *_STRUCT_SIZE variables) says otherwise.
#include <elf.h>

#include "diff/passes.hpp"

namespace kpatch::diff {
namespace {

struct Known {
    const char *name;
    unsigned size;
};

// Linux 6.1 x86-64 entry sizes (struct bug_entry with DEBUG_BUGVERBOSE, exception_table_entry,
// jump_entry, alt_instr, paravirt_patch_site, static_call_site, orc_entry, s32 site lists).
constexpr Known known[] = {
    {"__bug_table", 12},       {"__ex_table", 12},         {"__jump_table", 16},
    {".altinstructions", 12},  {".parainstructions", 16},  {".smp_locks", 4},
    {".static_call_sites", 8}, {".retpoline_sites", 4},    {".return_sites", 4},
    {".call_sites", 4},        {".printk_index", 8},       {"__mcount_loc", 8},
    {".orc_unwind_ip", 4},     {".orc_unwind", 6},         {".ibt_endbr_seal", 4},
};

const Known *find_known(std::string_view name)
{
    for (auto &k : known)
        if (name == k.name)
            return &k;
    return nullptr;
}

Expected<unsigned> entry_size(const Section &s, const Known &k, const EntrySizes &sizes)
{
    unsigned size = k.size;
    if (auto it = sizes.find(s.name); it != sizes.end())
        size = it->second;
    else if (s.entsize)
        size = static_cast<unsigned>(s.entsize);
    if (size == 0 || s.size() % size)
        return Error{"section '" + s.name + "' (" + std::to_string(s.size()) +
                     " bytes) is not a whole number of " + std::to_string(size) +
                     "-byte entries; give the entry size in the environment"};
    return size;
}

} // namespace

bool is_special_section(std::string_view name) { return find_known(name) != nullptr; }

std::pair<unsigned, unsigned> line_field(std::string_view section)
{
    if (section == "__bug_table")
        return {8, 10};   // unsigned short line, after bug_addr_disp and file_disp
    return {0, 0};
}

Expected<SpecialLayout> split_special_sections(const Object &object, CodeIndex &code,
                                               const EntrySizes &sizes)
{
    SpecialLayout layout;
    const Section *orc = nullptr;
    for (auto &sp : object.sections) {
        const Section &s = *sp;
        const Known *k = find_known(s.name);
        if (!k)
            continue;
        auto size = entry_size(s, *k, sizes);
        if (!size)
            return size.error();
        if (s.name == ".orc_unwind") {
            orc = &s;
            continue;
        }
        auto &list = layout.entries[s.name];
        uint64_t n = s.size() / *size;
        list.resize(n);
        for (uint64_t i = 0; i < n; i++) {
            list[i].section = &s;
            list[i].offset = i * *size;
            list[i].size = *size;
            list[i].index = i;
        }
        if (!s.relocations)
            continue;
        for (auto &r : s.relocations->entries) {
            SpecialEntry &e = list[r.offset / *size];
            e.relocations.push_back(&r);
            if (r.offset != e.offset || !r.symbol)
                continue;
            Referent ref = code.resolve(s, r);
            if (ref.kind == Referent::Kind::Symbol && ref.symbol->section &&
                ref.symbol->section->is_text()) {
                e.owner = ref.symbol->section;
                e.owner_offset = ref.symbol->value + ref.offset;
            } else if (ref.kind == Referent::Kind::Section && ref.section->is_text()) {
                e.owner = ref.section;
                e.owner_offset = ref.offset;
            }
        }
    }
    if (orc) {
        auto ip = layout.entries.find(".orc_unwind_ip");
        unsigned size = entry_size(*orc, *find_known(".orc_unwind"), sizes).value();
        uint64_t n = orc->size() / size;
        if (ip == layout.entries.end() || ip->second.size() != n)
            return Error{"sections .orc_unwind and .orc_unwind_ip do not have the same number of entries"};
        auto &list = layout.entries[".orc_unwind"];
        list.resize(n);
        for (uint64_t i = 0; i < n; i++) {
            list[i] = SpecialEntry{orc, i * size, size, {}, ip->second[i].owner,
                                   ip->second[i].owner_offset, i};
        }
    }
    for (auto &[name, list] : layout.entries)
        for (auto &e : list)
            if (e.owner)
                layout.by_owner[e.owner].push_back(&e);
    return layout;
}

} // namespace kpatch::diff
