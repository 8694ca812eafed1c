// Special sections: the per-instruction tables of the kernel, split into entries and tied to the code they describe (licence: GPL-2.0-only).
//
// Each entry's first field locates the instruction it describes (a relocation at entry
// offset 0 into a text section); that text section is the entry's owner. The ORC tables
// are parallel arrays: entry i of .orc_unwind belongs to the owner of entry i of
// .orc_unwind_ip. Which sections are special, and their usual entry sizes, the
// architecture says (Arch::special_sections); the size used comes from entry_size.cpp
// (environment, sh_entsize, DWARF, relocation stride, then that usual size). A section no size fits is
// left whole and marked undelimited: that stops only a patch that copies a function with
// entries there (include.cpp).
#include <elf.h>

#include <algorithm>
#include <cstring>

#include "diff/passes.hpp"

namespace kpatch::diff {
namespace {

const arch::SpecialSection *find_known(const arch::Arch &arch, std::string_view name)
{
    for (auto &k : arch.special_sections())
        if (name == k.name)
            return &k;
    return nullptr;
}

// A .printk_index entry points at a record (struct pi_entry: fmt, func, file, line, ...)
// rather than at code; the record's `func` field names the function whose printk it
// describes. That function's section owns the entry, so the entry stays exactly when the
// function is copied. Functions are matched by name, ignoring compiler suffixes
// (`foo.constprop.0` prints as `foo`).
constexpr uint64_t kPrintkRecordFuncOffset = 8;

// The NUL-terminated text a relocation points at: a string of a mergeable section, or
// the data of a symbol such as `__func__.N`; empty when it points at something else.
std::string_view referred_text(const Referent &ref)
{
    if (ref.kind == Referent::Kind::String)
        return ref.text;
    if (ref.kind != Referent::Kind::Symbol || !ref.symbol->section || ref.offset < 0)
        return {};
    const auto &data = ref.symbol->section->data;
    uint64_t at = ref.symbol->value + static_cast<uint64_t>(ref.offset);
    if (at >= data.size())
        return {};
    const char *begin = reinterpret_cast<const char *>(data.data()) + at;
    const void *nul = std::memchr(begin, 0, data.size() - at);
    return nul ? std::string_view(begin, static_cast<const char *>(nul) - begin) : std::string_view{};
}

void own_printk_index_entry(SpecialEntry &e, const Object &object, CodeIndex &code)
{
    if (e.owner || e.relocations.empty())
        return;
    Referent record = code.resolve(*e.section, *e.relocations.front());
    const Section *where = record.kind == Referent::Kind::Symbol ? record.symbol->section
                           : record.kind == Referent::Kind::Section ? record.section : nullptr;
    if (!where || !where->relocations)
        return;
    uint64_t base = record.kind == Referent::Kind::Symbol ? record.symbol->value + record.offset
                                                          : static_cast<uint64_t>(record.offset);
    for (auto &r : where->relocations->entries) {
        if (r.offset != base + kPrintkRecordFuncOffset)
            continue;
        std::string_view name = referred_text(code.resolve(*where, r));
        if (name.empty())
            return;
        for (auto &sym : object.symbols) {
            std::string_view n = sym->name;
            if (!sym->is_function() || !sym->section || !n.starts_with(name) ||
                (n.size() != name.size() && n[name.size()] != '.') || is_cold_part(n))
                continue;
            e.owner = sym->section;
            e.owner_offset = sym->value;
            return;
        }
        return;
    }
}

} // namespace

bool is_special_section(const arch::Arch &arch, std::string_view name)
{
    return find_known(arch, name) != nullptr;
}

bool entries_point_at_records(std::string_view section) { return section == ".printk_index"; }

Expected<SpecialLayout> split_special_sections(const Object &object, CodeIndex &code,
                                               const EntrySizes &sizes, StructSizes &structs)
{
    SpecialLayout layout;
    const Section *orc = nullptr;
    EntryCut orc_cut;
    for (auto &sp : object.sections) {
        const Section &s = *sp;
        const arch::SpecialSection *k = find_known(code.arch(), s.name);
        if (!k)
            continue;
        auto cut = cut_entries(s, k->entry_size, sizes, structs, code);
        if (!cut) {
            layout.undelimited[s.name] = cut.error().message;
            continue;
        }
        layout.sizes[s.name] = std::to_string(cut->stride) + " bytes, from " + cut->source;
        layout.strides[s.name] = cut->stride;
        if (s.name == ".orc_unwind") {
            orc = &s;
            orc_cut = *cut;
            continue;
        }
        auto &list = layout.entries[s.name];
        list.resize(cut->count);
        for (uint64_t i = 0; i < cut->count; i++) {
            list[i].section = &s;
            list[i].offset = i * cut->stride;
            list[i].size = static_cast<unsigned>(std::min<uint64_t>(cut->stride, s.size() - list[i].offset));
            list[i].index = i;
        }
        if (!s.relocations)
            continue;
        for (auto &r : s.relocations->entries) {
            if (r.offset >= s.size())
                return Error{"relocation at offset " + std::to_string(r.offset) +
                             " lies past the end of the section"}.in(s.name);
            SpecialEntry &e = list[r.offset / cut->stride];
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
    // ORC tables are parallel: one that cannot be cut leaves the other meaningless.
    if (auto bad = layout.undelimited.find(".orc_unwind"); bad != layout.undelimited.end()) {
        layout.entries.erase(".orc_unwind_ip");
        layout.undelimited[".orc_unwind_ip"] = "its parallel table .orc_unwind cannot be cut: " + bad->second;
    } else if (auto bad_ip = layout.undelimited.find(".orc_unwind_ip"); orc && bad_ip != layout.undelimited.end()) {
        layout.undelimited[".orc_unwind"] = "its parallel table .orc_unwind_ip cannot be cut: " + bad_ip->second;
        layout.sizes.erase(".orc_unwind");
        layout.strides.erase(".orc_unwind");
        orc = nullptr;
    }
    if (orc) {
        auto ip = layout.entries.find(".orc_unwind_ip");
        if (ip == layout.entries.end() || ip->second.size() != orc_cut.count)
            return Error{"sections .orc_unwind and .orc_unwind_ip do not have the same number of entries"};
        auto &list = layout.entries[".orc_unwind"];
        list.resize(orc_cut.count);
        for (uint64_t i = 0; i < orc_cut.count; i++) {
            uint64_t at = i * orc_cut.stride;
            list[i] = SpecialEntry{orc, at, static_cast<unsigned>(std::min<uint64_t>(orc_cut.stride, orc->size() - at)),
                                   {}, ip->second[i].owner, ip->second[i].owner_offset, i};
        }
    }
    if (auto pi = layout.entries.find(".printk_index"); pi != layout.entries.end())
        for (auto &e : pi->second)
            own_printk_index_entry(e, object, code);
    for (auto &[name, list] : layout.entries)
        for (auto &e : list)
            if (e.owner)
                layout.by_owner[e.owner].push_back(&e);
    return layout;
}

} // namespace kpatch::diff
