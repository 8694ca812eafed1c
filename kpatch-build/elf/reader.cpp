// Builds the object model from a relocatable x86-64/any-arch ELF64 file through libelf (licence: GPL-2.0-only).
//
// Order (each step relies on the ones before):
//   1. the ELF header: ELF64, little-endian, ET_REL;
//   2. section headers and names; the symbol table and its string table are found here;
//   3. section contents (libelf checks that they lie inside the file);
//   4. symbols, resolved to their sections (SHN_XINDEX through .symtab_shndx);
//   5. relocation sections, resolved to their target section and to symbols;
//   6. section symbols linked back to their sections.
// Groups (SHT_GROUP) do not occur in kernel C objects and are refused.
#include "elf/object.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <unistd.h>
#include <unordered_map>

namespace kpatch::elf {
namespace {

Error fail(const std::string &what) { return Error{what}; }
Error libelf_fail(const std::string &what) { return Error{what + ": " + elf_errmsg(-1)}; }

// Owns an Elf handle over bytes that outlive it.
struct ElfHandle {
    Elf *elf = nullptr;
    ~ElfHandle() { if (elf) elf_end(elf); }
};

struct Reader {
    Elf *elf;
    Object &obj;
    size_t shnum = 0, shstrndx = 0;
    size_t symtab_index = 0, symtab_shndx_index = 0;
    std::vector<Section *> by_index;   // file section index -> model section (null if none)
    std::vector<Symbol *> sym_by_index;

    Expected<void> header();
    Expected<void> section_headers();
    Expected<void> symbols();
    Expected<void> relocations();
};

Expected<void> Reader::header()
{
    if (elf_kind(elf) != ELF_K_ELF)
        return fail("not an ELF file");
    if (gelf_getclass(elf) != ELFCLASS64)
        return fail("not a 64-bit ELF file");
    GElf_Ehdr eh;
    if (!gelf_getehdr(elf, &eh))
        return libelf_fail("bad ELF header");
    if (eh.e_ident[EI_DATA] != ELFDATA2LSB)
        return fail("not a little-endian ELF file");
    if (eh.e_type != ET_REL)
        return fail("not a relocatable object (ET_REL)");
    obj.machine = eh.e_machine;
    obj.osabi = eh.e_ident[EI_OSABI];
    obj.e_flags = eh.e_flags;
    if (elf_getshdrnum(elf, &shnum) != 0 || elf_getshdrstrndx(elf, &shstrndx) != 0)
        return libelf_fail("bad section header table");
    if (shstrndx == 0 || shstrndx >= shnum)
        return fail("no section name string table");
    return {};
}

Expected<void> Reader::section_headers()
{
    by_index.assign(shnum, nullptr);
    for (size_t i = 1; i < shnum; i++) {
        Elf_Scn *scn = elf_getscn(elf, i);
        GElf_Shdr sh;
        if (!scn || !gelf_getshdr(scn, &sh))
            return libelf_fail("bad section header " + std::to_string(i));
        const char *name = elf_strptr(elf, shstrndx, sh.sh_name);
        if (!name)
            return fail("section " + std::to_string(i) + " has a bad name offset");
        if (sh.sh_type == SHT_SYMTAB) {
            if (symtab_index)
                return fail("more than one symbol table");
            symtab_index = i;
            continue;
        }
        if (sh.sh_type == SHT_SYMTAB_SHNDX) { symtab_shndx_index = i; continue; }
        if (i == shstrndx || sh.sh_type == SHT_STRTAB)
            continue;   // rebuilt by the writer
        if (sh.sh_type == SHT_GROUP)
            return fail("section group '" + std::string(name) + "' is not supported");
        if (sh.sh_type == SHT_REL)
            return fail("SHT_REL section '" + std::string(name) + "' is not supported (RELA only)");
        std::unique_ptr<Section> sec;
        if (sh.sh_type == SHT_RELA)
            sec = std::make_unique<RelocationSection>();
        else
            sec = std::make_unique<Section>();
        sec->name = name;
        sec->type = sh.sh_type;
        sec->flags = sh.sh_flags;
        sec->addralign = sh.sh_addralign ? sh.sh_addralign : 1;
        sec->entsize = sh.sh_entsize;
        sec->original_index = static_cast<uint32_t>(i);
        if (sh.sh_type == SHT_NOBITS) {
            sec->nobits_size = sh.sh_size;
        } else if (sh.sh_size) {
            Elf_Data *d = elf_getdata(scn, nullptr);
            if (!d || d->d_size != sh.sh_size || !d->d_buf)
                return libelf_fail("section '" + sec->name + "' lies outside the file");
            auto *p = static_cast<const uint8_t *>(d->d_buf);
            sec->data.assign(p, p + d->d_size);
        }
        by_index[i] = sec.get();
        obj.add_section(std::move(sec));
    }
    if (!symtab_index)
        return fail("no symbol table");
    return {};
}

Expected<void> Reader::symbols()
{
    Elf_Scn *scn = elf_getscn(elf, symtab_index);
    GElf_Shdr sh;
    if (!gelf_getshdr(scn, &sh))
        return libelf_fail("bad symbol table header");
    if (sh.sh_link == 0 || sh.sh_link >= shnum)
        return fail("symbol table has no string table");
    Elf_Data *d = elf_getdata(scn, nullptr);
    if (!d && sh.sh_size)
        return libelf_fail("symbol table lies outside the file");
    Elf_Data *xd = nullptr;
    if (symtab_shndx_index)
        xd = elf_getdata(elf_getscn(elf, symtab_shndx_index), nullptr);
    size_t count = d ? d->d_size / sizeof(Elf64_Sym) : 0;
    sym_by_index.assign(count, nullptr);
    for (size_t i = 1; i < count; i++) {
        GElf_Sym s;
        Elf32_Word xndx = 0;
        if (!gelf_getsymshndx(d, xd, static_cast<int>(i), &s, &xndx))
            return libelf_fail("bad symbol " + std::to_string(i));
        const char *name = elf_strptr(elf, sh.sh_link, s.st_name);
        if (!name)
            return fail("symbol " + std::to_string(i) + " has a bad name offset");
        auto sym = std::make_unique<Symbol>();
        sym->name = name;
        sym->bind = GELF_ST_BIND(s.st_info);
        sym->type = GELF_ST_TYPE(s.st_info);
        sym->other = s.st_other;
        sym->value = s.st_value;
        sym->size = s.st_size;
        sym->original_index = static_cast<uint32_t>(i);
        size_t shndx = s.st_shndx == SHN_XINDEX ? xndx : s.st_shndx;
        if (s.st_shndx == SHN_UNDEF) {
            sym->placement = Placement::Undefined;
        } else if (s.st_shndx == SHN_ABS) {
            sym->placement = Placement::Absolute;
        } else if (s.st_shndx == SHN_COMMON) {
            sym->placement = Placement::Common;
        } else if (s.st_shndx == SHN_LIVEPATCH) {
            sym->placement = Placement::Livepatch;
        } else {
            if (shndx >= shnum || !by_index[shndx])
                return fail("symbol '" + sym->name + "' has a bad section index " +
                            std::to_string(shndx));
            sym->placement = Placement::InSection;
            sym->section = by_index[shndx];
            if (sym->type == STT_SECTION && !sym->section->section_symbol)
                sym->section->section_symbol = sym.get();
        }
        sym_by_index[i] = sym.get();
        obj.add_symbol(std::move(sym));
    }
    return {};
}

Expected<void> Reader::relocations()
{
    for (auto &up : obj.sections) {
        if (up->type != SHT_RELA)
            continue;
        auto &rs = static_cast<RelocationSection &>(*up);
        GElf_Shdr sh;
        if (!gelf_getshdr(elf_getscn(elf, rs.original_index), &sh))
            return libelf_fail("bad header of '" + rs.name + "'");
        if (sh.sh_link != symtab_index)
            return fail("relocation section '" + rs.name + "' does not use the symbol table");
        if (sh.sh_info == 0 || sh.sh_info >= shnum || !by_index[sh.sh_info] ||
            by_index[sh.sh_info]->type == SHT_RELA)
            return fail("relocation section '" + rs.name + "' has a bad target section");
        rs.target = by_index[sh.sh_info];
        // Livepatch relocations (.klp.rela.*) are a second set for a section: they are
        // kept as sections but are not the section's own relocations.
        if (!(rs.flags & SHF_RELA_LIVEPATCH)) {
            if (rs.target->relocations)
                return fail("section '" + rs.target->name + "' has two relocation sections");
            rs.target->relocations = &rs;
        }
        size_t n = rs.data.size() / sizeof(Elf64_Rela);
        if (rs.data.size() % sizeof(Elf64_Rela))
            return fail("relocation section '" + rs.name + "' has a partial entry");
        rs.entries.reserve(n);
        for (size_t i = 0; i < n; i++) {
            Elf64_Rela r;
            std::memcpy(&r, rs.data.data() + i * sizeof r, sizeof r);
            size_t symi = ELF64_R_SYM(r.r_info);
            if (symi != 0 && (symi >= sym_by_index.size() || !sym_by_index[symi]))
                return fail("relocation " + std::to_string(i) + " in '" + rs.name +
                            "' names symbol " + std::to_string(symi) + " beyond the table");
            if (r.r_offset >= rs.target->size())
                return fail("relocation " + std::to_string(i) + " in '" + rs.name +
                            "' lies outside its section");
            rs.entries.push_back(Relocation{r.r_offset, static_cast<uint32_t>(ELF64_R_TYPE(r.r_info)),
                                            symi ? sym_by_index[symi] : nullptr, r.r_addend});
        }
        rs.data.clear();   // the entries are the truth from here on
    }
    return {};
}

} // namespace

Expected<std::unique_ptr<Object>> parse_object(std::vector<uint8_t> bytes, const std::string &name)
{
    elf_version(EV_CURRENT);
    auto obj = std::make_unique<Object>();
    obj->path = name;
    ElfHandle h;
    h.elf = elf_memory(reinterpret_cast<char *>(bytes.data()), bytes.size());
    if (!h.elf)
        return libelf_fail("cannot parse").in(name);
    Reader r{h.elf, *obj};
    if (auto e = r.header(); !e) return e.error().in(name);
    if (auto e = r.section_headers(); !e) return e.error().in(name);
    if (auto e = r.symbols(); !e) return e.error().in(name);
    if (auto e = r.relocations(); !e) return e.error().in(name);
    return obj;
}

Expected<std::unique_ptr<Object>> read_object(const std::string &path)
{
    int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return Error{path + ": cannot open: " + std::strerror(errno)};
    std::vector<uint8_t> bytes;
    uint8_t buf[65536];
    for (;;) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0) {
            int err = errno;
            close(fd);
            return Error{path + ": cannot read: " + std::strerror(err)};
        }
        if (n == 0)
            break;
        bytes.insert(bytes.end(), buf, buf + n);
    }
    close(fd);
    return parse_object(std::move(bytes), path);
}

} // namespace kpatch::elf
