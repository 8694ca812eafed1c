// How long one entry of a special section is, and where the differ learnt it (licence: GPL-2.0-only).
//
// The structs behind the kernel's per-instruction tables (bug_entry, alt_instr, jump_entry,
// exception_table_entry, paravirt_patch_site, static_call_site) gained and lost fields
// between kernel versions, so no fixed size fits every object. The size comes from the
// first of these sources that gives one:
//   1. the environment (kpatch-build's *_STRUCT_SIZE names): an override;
//   2. the section's sh_entsize, when the assembler was told one;
//   3. the kernel tree the objects were built from: kpatch-build compiles sizeof(struct)
//      with its headers and configuration (driver/src/entry_sizes.cpp, --entry-sizes);
//   4. the object's own DWARF: byte_size of the struct the kernel declares entries with
//      (read only when the relocations do not show the 6.1 size: see cut_entries; it
//      has the struct only when C code of the object uses the type);
//   5. the relocation pattern: the stride at which every entry starts with a relocation
//      into code and carries relocations at the same offsets, of the same types;
//   6. the usual size the architecture gives (Arch::special_sections: Linux 6.1's).
// The first size given decides: when it does not fit, no later source is tried (a wrong
// override is the user's to hear about; a struct size that does not fit says the table is
// not what it seems) and the section is left uncut, which stops only a patch that copies
// a function with entries there.
// A size fits a section when the section holds whole entries, or whole entries and a last
// one that lacks only its tail padding: the assembler pads an entry to its alignment only
// when another entry follows, so a 16-byte-aligned entry of 10 bytes of data ends the
// section 6 bytes short.
#include <dwarf.h>
#include <elfutils/libdw.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>

#include "diff/dwarf_unit.hpp"
#include "diff/passes.hpp"

namespace kpatch::diff {
namespace {

struct Source {
    const char *section;
    const char *variable;   // kpatch-build's environment name, or null
    const char *dwarf;      // the struct one entry is, or null (lists of s32/pointers)
};

constexpr Source sources[] = {
    {"__bug_table", "BUG_STRUCT_SIZE", "bug_entry"},
    {"__ex_table", "EX_STRUCT_SIZE", "exception_table_entry"},
    {"__jump_table", "JUMP_STRUCT_SIZE", "jump_entry"},
    {".altinstructions", "ALT_STRUCT_SIZE", "alt_instr"},
    {".parainstructions", "PARA_STRUCT_SIZE", "paravirt_patch_site"},
    {".static_call_sites", "STATIC_CALL_STRUCT_SIZE", "static_call_site"},
    {".orc_unwind", "ORC_STRUCT_SIZE", "orc_entry"},
    // Entries are pointers to struct pi_entry records: the record's size is not the entry's.
    {".printk_index", "PRINTK_INDEX_STRUCT_SIZE", nullptr},
};

const Source *source_of(std::string_view section)
{
    for (auto &s : sources)
        if (section == s.section)
            return &s;
    return nullptr;
}

// Why `stride`-byte entries do not fit `s`, or "" when they do.
std::string misfit(const Section &s, uint64_t stride)
{
    uint64_t bytes = s.size(), rest = bytes % stride;
    if (rest == 0)
        return {};
    uint64_t align = std::max<uint64_t>(s.addralign, 1);
    if (stride % align == 0 && (rest + align - 1) / align * align == stride)
        return {};
    return std::to_string(bytes) + " bytes are not a whole number of " + std::to_string(stride) +
           "-byte entries, and the last " + std::to_string(rest) +
           " bytes are not an entry short of only its tail padding (the section is aligned to " +
           std::to_string(align) + ")";
}

// Whether entries of `stride` bytes show one pattern: each starts with a relocation into
// code (the instruction it describes) and has relocations at the same offsets, of the
// same types, as the first entry.
bool consistent_stride(const Section &s, CodeIndex &code, uint64_t stride,
                       const std::vector<const Relocation *> &relocs)
{
    std::vector<std::pair<uint64_t, uint32_t>> pattern;
    for (auto *r : relocs) {
        if (r->offset >= stride)
            break;
        pattern.emplace_back(r->offset, r->type);
    }
    if (pattern.empty() || pattern.front().first != 0)
        return false;
    size_t i = 0;
    for (uint64_t start = 0; start < s.size(); start += stride) {
        for (auto [offset, type] : pattern) {
            if (start + offset >= s.size())
                break;   // the short last entry may end before its later fields
            if (i == relocs.size() || relocs[i]->offset != start + offset || relocs[i]->type != type)
                return false;
            if (offset == 0) {
                Referent ref = code.resolve(s, *relocs[i]);
                const Section *target = ref.kind == Referent::Kind::Symbol ? ref.symbol->section
                                        : ref.kind == Referent::Kind::Section ? ref.section : nullptr;
                if (!target || !target->is_text())
                    return false;
            }
            i++;
        }
    }
    return i == relocs.size();
}

// The entry size the relocations show, or 0. Several strides can fit when every field is
// a relocation of one type (4.x's __ex_table: insn, fixup, handler); `usual` (the arch's
// size) is then preferred to the smallest, which would cut entries into fields.
uint64_t relocation_stride(const Section &s, CodeIndex &code, uint64_t usual)
{
    if (!s.relocations || s.relocations->entries.size() < 2)
        return 0;
    std::vector<const Relocation *> relocs;
    for (auto &r : s.relocations->entries)
        relocs.push_back(&r);
    std::sort(relocs.begin(), relocs.end(),
              [](const Relocation *a, const Relocation *b) { return a->offset < b->offset; });
    if (relocs.front()->offset != 0)
        return 0;
    auto fits = [&](uint64_t stride) {
        return misfit(s, stride).empty() && consistent_stride(s, code, stride, relocs);
    };
    // Candidates, smallest first: where a relocation like the first one starts the next entry.
    int tried = 0;
    for (auto *r : relocs) {
        if (r->offset == 0 || r->type != relocs.front()->type)
            continue;
        if (++tried > 64 || r->offset > 4096)
            break;
        if (!fits(r->offset))
            continue;
        return r->offset < usual && fits(usual) ? usual : r->offset;
    }
    return 0;
}

// Whether .orc_unwind holds as many `usual`-byte entries as its parallel table
// .orc_unwind_ip (s32 offsets) has entries.
bool orc_fits(const Section &orc, CodeIndex &code, uint64_t usual)
{
    const Section *ip = code.object().find_section(".orc_unwind_ip");
    return ip && ip->size() % 4 == 0 && orc.size() == ip->size() / 4 * usual;
}

} // namespace

const char *entry_size_variable(std::string_view section)
{
    const Source *s = source_of(section);
    return s ? s->variable : nullptr;
}

std::vector<std::pair<std::string, std::string>> entry_size_variables()
{
    std::vector<std::pair<std::string, std::string>> out;
    for (auto &s : sources)
        out.emplace_back(s.variable, s.section);
    return out;
}

Expected<EntrySizes> read_entry_sizes(const std::string &path)
{
    std::ifstream f(path);
    if (!f)
        return Error{"cannot read the entry sizes in " + path};
    auto j = nlohmann::json::parse(f, nullptr, false);
    if (j.is_discarded() || !j.is_object())
        return Error{path + ": not a JSON object of entry sizes ({\"SECTION\": BYTES, ...})"};
    EntrySizes sizes;
    for (auto &[section, bytes] : j.items()) {
        if (!bytes.is_number_unsigned() || bytes.get<uint64_t>() == 0 || bytes.get<uint64_t>() >= 4096)
            return Error{path + ": the entry size of \"" + section + "\" is " + bytes.dump() +
                         ", not a number of bytes from 1 to 4095"};
        sizes[section] = bytes.get<unsigned>();
    }
    return sizes;
}

std::optional<unsigned> StructSizes::from_tree(std::string_view section) const
{
    if (!tree_)
        return std::nullopt;
    auto it = tree_->find(section);
    if (it == tree_->end())
        return std::nullopt;
    return it->second;
}

std::optional<unsigned> StructSizes::size_of(const char *name)
{
    if (!read_) {
        read_ = true;
        if (Dwarf *dw = debug_.dwarf())
            // Kernel structs are declared at file scope: the top level of each unit suffices.
            for_each_top_level_die(dw, [&](Dwarf_Die *d) {
                if (dwarf_tag(d) != DW_TAG_structure_type || dwarf_hasattr(d, DW_AT_declaration))
                    return;
                const char *n = dwarf_diename(d);
                int bytes = dwarf_bytesize(d);
                if (n && bytes > 0)
                    for (auto &src : sources)
                        if (src.dwarf && std::string_view(n) == src.dwarf)
                            sizes_.emplace(n, static_cast<unsigned>(bytes));
            });
    }
    auto it = sizes_.find(name);
    if (it == sizes_.end())
        return std::nullopt;
    return it->second;
}

Expected<EntryCut> cut_entries(const Section &s, unsigned usual, const EntrySizes &overrides,
                               StructSizes &structs, CodeIndex &code)
{
    const Source *src = source_of(s.name);
    EntryCut cut;
    bool overridden = false;
    if (auto it = overrides.find(s.name); it != overrides.end()) {
        cut.stride = it->second;
        cut.source = src ? std::string(src->variable) + " in the environment" : "the given entry size";
        overridden = true;
    } else if (s.entsize) {
        cut.stride = s.entsize;
        cut.source = "the section's sh_entsize";
    } else if (auto tree = structs.from_tree(s.name)) {
        cut.stride = *tree;
        cut.source = std::string("the kernel tree's headers") +
                     (src && src->dwarf ? std::string(" (struct ") + src->dwarf + ")" : "");
    } else {
        // The relocations rank below DWARF but are read first: when they show the 6.1
        // size, DWARF could only say the same, and opening it costs more than the rest
        // of a small object's diff.
        uint64_t stride = s.name == ".printk_index" ? 0 : relocation_stride(s, code, usual);
        const std::string usual_layout = code.arch().special_layout_name();
        std::optional<unsigned> n;
        if (s.name == ".orc_unwind" && orc_fits(s, code, usual)) {
            cut.stride = usual;
            cut.source = usual_layout + ", which the entry count of .orc_unwind_ip confirms";
        } else if (stride && stride == usual) {
            cut.stride = usual;
            cut.source = usual_layout + ", which its relocations show";
        } else if ((n = src && src->dwarf ? structs.size_of(src->dwarf) : std::nullopt)) {
            cut.stride = *n;
            cut.source = std::string("the object's DWARF (struct ") + src->dwarf + ")";
        } else if (stride) {
            cut.stride = stride;
            cut.source = "the stride of its relocations";
        } else {
            cut.stride = usual;
            cut.source = usual_layout;
            if (src && src->dwarf)
                cut.source += std::string(", as the object's DWARF has no struct ") + src->dwarf +
                              " and its relocations no regular stride";
        }
    }
    std::string why = cut.stride ? misfit(s, cut.stride) : "the entry size is 0";
    if (!why.empty()) {
        why = "entries of " + std::to_string(cut.stride) + " bytes (from " + cut.source + ") do not fit: " + why;
        if (src && src->variable)
            why += overridden ? "; correct " + std::string(src->variable)
                              : "; give the entry size in the environment (" + std::string(src->variable) + ")";
        return Error{why};
    }
    cut.count = (s.size() + cut.stride - 1) / cut.stride;
    return cut;
}

} // namespace kpatch::diff
