// Serializes the object model to a relocatable ELF file through libelf (licence: GPL-2.0-only).
//
// Two phases, as in LLVM objcopy: finalize() decides everything (section indices, symbol
// order with locals first, string tables, relocation bytes) without touching libelf; then
// serialize() hands the finished buffers to libelf, which lays out the file.
#include "elf/object.hpp"

#include <cerrno>
#include <cstring>
#include <elf.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <unistd.h>
#include <unordered_map>

namespace kpatch::elf {
namespace {

class StringTable {
public:
    StringTable() { bytes_.push_back(0); }
    uint32_t add(const std::string &s)
    {
        if (s.empty())
            return 0;
        auto it = offsets_.find(s);
        if (it != offsets_.end())
            return it->second;
        uint32_t off = static_cast<uint32_t>(bytes_.size());
        bytes_.insert(bytes_.end(), s.begin(), s.end());
        bytes_.push_back(0);
        offsets_.emplace(s, off);
        return off;
    }
    std::vector<uint8_t> &bytes() { return bytes_; }

private:
    std::vector<uint8_t> bytes_;
    std::unordered_map<std::string, uint32_t> offsets_;
};

struct OutSection {
    const Section *model = nullptr;   // null for the generated tables
    std::string name;
    GElf_Shdr shdr{};
    std::vector<uint8_t> bytes;
};

struct Layout {
    std::vector<OutSection> out;      // index i+1 in the file
    size_t symtab = 0, strtab = 0, shstrtab = 0;
};

using SectionIndex = std::unordered_map<const Section *, size_t>;

// The symbol table's bytes, with what the section headers and relocations need of it.
struct SymbolTable {
    std::vector<uint8_t> bytes;
    std::unordered_map<const Symbol *, uint32_t> index;
    size_t first_global = 0;
    StringTable names;
};

// One output section a model section, in model order; the three generated tables follow.
Expected<Layout> place_sections(const Object &obj, SectionIndex &index)
{
    Layout l;
    for (auto &s : obj.sections) {
        OutSection o;
        o.model = s.get();
        o.name = s->name;
        l.out.push_back(std::move(o));
        index[s.get()] = l.out.size();
    }
    l.symtab = l.out.size() + 1;
    l.strtab = l.symtab + 1;
    l.shstrtab = l.strtab + 1;
    if (l.shstrtab >= SHN_LORESERVE)
        return Error{"too many sections to write (" + std::to_string(l.shstrtab) + ")"};
    return l;
}

uint16_t symbol_shndx(const Symbol &s, const SectionIndex &index)
{
    switch (s.placement) {
    case Placement::InSection: return static_cast<uint16_t>(index.at(s.section));
    case Placement::Undefined: return SHN_UNDEF;
    case Placement::Absolute: return SHN_ABS;
    case Placement::Common: return SHN_COMMON;
    case Placement::Livepatch: return SHN_LIVEPATCH;
    }
    return SHN_UNDEF;
}

// Symbols: the null symbol, then locals, then the rest (ELF requires locals first).
Expected<SymbolTable> build_symbols(const Object &obj, const SectionIndex &index)
{
    std::vector<const Symbol *> order;
    for (auto &s : obj.symbols)
        if (s->bind == STB_LOCAL)
            order.push_back(s.get());
    SymbolTable t;
    t.first_global = order.size() + 1;
    for (auto &s : obj.symbols)
        if (s->bind != STB_LOCAL)
            order.push_back(s.get());
    t.bytes.assign(sizeof(Elf64_Sym), 0);
    for (size_t i = 0; i < order.size(); i++) {
        const Symbol &s = *order[i];
        if (s.placement == Placement::InSection && !index.contains(s.section))
            return Error{"symbol '" + s.name + "' refers to a section not in the object"};
        Elf64_Sym es{};
        es.st_name = s.is_section_symbol() ? 0 : t.names.add(s.name);
        es.st_info = ELF64_ST_INFO(s.bind, s.type);
        es.st_other = s.other;
        es.st_value = s.value;
        es.st_size = s.size;
        es.st_shndx = symbol_shndx(s, index);
        t.index[&s] = static_cast<uint32_t>(i + 1);
        const auto *p = reinterpret_cast<const uint8_t *>(&es);
        t.bytes.insert(t.bytes.end(), p, p + sizeof es);
    }
    return t;
}

// A relocation section's header links and its Elf64_Rela bytes.
Expected<void> encode_relocations(const Section &s, const Layout &l, const SectionIndex &index,
                                  const SymbolTable &symbols, OutSection &o)
{
    // The reader models a SHT_RELA it could not parse as a plain section
    // (found by the fuzzer): that is an error here, not a downcast.
    const auto *rsp = dynamic_cast<const RelocationSection *>(&s);
    if (!rsp)
        return Error{"relocation section '" + s.name + "' could not be read as relocations"};
    const auto &rs = *rsp;
    auto it = index.find(rs.target);
    if (!rs.target || it == index.end())
        return Error{"relocation section '" + s.name + "' has no target in the object"};
    GElf_Shdr &h = o.shdr;
    h.sh_link = static_cast<uint32_t>(l.symtab);
    h.sh_info = static_cast<uint32_t>(it->second);
    h.sh_entsize = sizeof(Elf64_Rela);
    for (auto &r : rs.entries) {
        Elf64_Rela er{};
        uint32_t si = 0;
        if (r.symbol) {
            auto sit = symbols.index.find(r.symbol);
            if (sit == symbols.index.end())
                return Error{"relocation in '" + s.name + "' refers to a symbol not in the object"};
            si = sit->second;
        }
        er.r_offset = r.offset;
        er.r_info = ELF64_R_INFO(si, r.type);
        er.r_addend = r.addend;
        const auto *p = reinterpret_cast<const uint8_t *>(&er);
        o.bytes.insert(o.bytes.end(), p, p + sizeof er);
    }
    return {};
}

// Headers and contents of the model's sections (names go into SHSTRTAB in file order).
Expected<void> fill_sections(Layout &l, const SectionIndex &index, const SymbolTable &symbols,
                             StringTable &shstrtab)
{
    for (auto &o : l.out) {
        const Section &s = *o.model;
        GElf_Shdr &h = o.shdr;
        h.sh_name = shstrtab.add(s.name);
        h.sh_type = s.type;
        h.sh_flags = s.flags;
        h.sh_addralign = s.addralign;
        h.sh_entsize = s.entsize;
        if (s.type == SHT_RELA) {
            if (auto ok = encode_relocations(s, l, index, symbols, o); !ok)
                return ok;
        } else if (s.type == SHT_NOBITS) {
            h.sh_size = s.nobits_size;
        } else {
            o.bytes = s.data;
        }
    }
    return {};
}

// The generated tables, last: .symtab, .strtab, .shstrtab (which names itself).
void append_tables(Layout &l, SymbolTable &symbols, StringTable &shstrtab)
{
    OutSection sym, str, shs;
    sym.name = ".symtab";
    sym.shdr.sh_name = shstrtab.add(".symtab");
    sym.shdr.sh_type = SHT_SYMTAB;
    sym.shdr.sh_link = static_cast<uint32_t>(l.strtab);
    sym.shdr.sh_info = static_cast<uint32_t>(symbols.first_global);
    sym.shdr.sh_addralign = 8;
    sym.shdr.sh_entsize = sizeof(Elf64_Sym);
    sym.bytes = std::move(symbols.bytes);
    str.name = ".strtab";
    str.shdr.sh_name = shstrtab.add(".strtab");
    str.shdr.sh_type = SHT_STRTAB;
    str.shdr.sh_addralign = 1;
    str.bytes = std::move(symbols.names.bytes());
    shs.name = ".shstrtab";
    shs.shdr.sh_name = shstrtab.add(".shstrtab");
    shs.shdr.sh_type = SHT_STRTAB;
    shs.shdr.sh_addralign = 1;
    l.out.push_back(std::move(sym));
    l.out.push_back(std::move(str));
    shs.bytes = std::move(shstrtab.bytes());
    l.out.push_back(std::move(shs));
}

Expected<Layout> finalize(const Object &obj)
{
    SectionIndex index;
    auto l = place_sections(obj, index);
    if (!l)
        return l;
    auto symbols = build_symbols(obj, index);
    if (!symbols)
        return symbols.error();
    StringTable shstrtab;
    if (auto ok = fill_sections(*l, index, *symbols, shstrtab); !ok)
        return ok.error();
    append_tables(*l, *symbols, shstrtab);
    return l;
}

Expected<void> serialize(const Object &obj, Layout &l, int fd)
{
    Elf *elf = elf_begin(fd, ELF_C_WRITE, nullptr);
    if (!elf)
        return Error{std::string("elf_begin: ") + elf_errmsg(-1)};
    auto fail = [&](const char *what) {
        Error e{std::string(what) + ": " + elf_errmsg(-1)};
        elf_end(elf);
        return e;
    };
    if (!gelf_newehdr(elf, ELFCLASS64))
        return fail("gelf_newehdr");
    GElf_Ehdr eh;
    gelf_getehdr(elf, &eh);
    eh.e_ident[EI_DATA] = ELFDATA2LSB;
    eh.e_ident[EI_OSABI] = obj.osabi;
    eh.e_type = ET_REL;
    eh.e_machine = obj.machine;
    eh.e_version = EV_CURRENT;
    eh.e_flags = obj.e_flags;
    eh.e_shstrndx = static_cast<uint16_t>(l.shstrtab);
    if (!gelf_update_ehdr(elf, &eh))
        return fail("gelf_update_ehdr");
    for (auto &o : l.out) {
        Elf_Scn *scn = elf_newscn(elf);
        if (!scn)
            return fail("elf_newscn");
        if (o.shdr.sh_type != SHT_NOBITS || !o.bytes.empty()) {
            Elf_Data *d = elf_newdata(scn);
            if (!d)
                return fail("elf_newdata");
            d->d_buf = o.bytes.data();
            d->d_size = o.bytes.size();
            d->d_type = ELF_T_BYTE;
            d->d_align = o.shdr.sh_addralign ? o.shdr.sh_addralign : 1;
        }
        if (o.shdr.sh_type == SHT_NOBITS) {
            Elf_Data *d = elf_newdata(scn);
            d->d_buf = nullptr;
            d->d_size = o.shdr.sh_size;
            d->d_type = ELF_T_BYTE;
            d->d_align = o.shdr.sh_addralign ? o.shdr.sh_addralign : 1;
        }
        GElf_Shdr h = o.shdr;
        if (!gelf_update_shdr(scn, &h))
            return fail("gelf_update_shdr");
    }
    if (elf_update(elf, ELF_C_WRITE) < 0)
        return fail("elf_update");
    elf_end(elf);
    return {};
}

} // namespace

Expected<void> write_object(const Object &obj, const std::string &path)
{
    elf_version(EV_CURRENT);
    auto layout = finalize(obj);
    if (!layout)
        return layout.error().in(path);
    int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return Error{path + ": cannot create: " + std::strerror(errno)};
    auto r = serialize(obj, *layout, fd);
    if (close(fd) != 0 && r)
        return Error{path + ": cannot write: " + std::strerror(errno)};
    if (!r)
        return r.error().in(path);
    return {};
}

} // namespace kpatch::elf
