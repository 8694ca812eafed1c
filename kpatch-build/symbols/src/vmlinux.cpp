// Reads the symbol table of an unstripped vmlinux, or of a module's .ko, through libelf
// (licence: GPL-2.0-only). libelf maps the file and only the symbol table and section
// headers are touched, so even a -dbg vmlinux loads in well under a second.
#include <kpatch/symbols/kernel_symbols.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <memory>
#include <string_view>
#include <unistd.h>

namespace kpatch::symbols {

namespace {

struct FdCloser {
    int fd;
    ~FdCloser() { if (fd >= 0) ::close(fd); }
};
struct ElfCloser {
    void operator()(Elf *e) const { elf_end(e); }
};

// The letter nm would print, from the symbol's binding and its section's kind.
char nm_letter(const GElf_Sym &sym, const GElf_Shdr *shdr)
{
    char c;
    if (sym.st_shndx == SHN_ABS)
        c = 'a';
    else if (!shdr)
        c = 'd';
    else if (shdr->sh_flags & SHF_EXECINSTR)
        c = 't';
    else if (shdr->sh_type == SHT_NOBITS)
        c = 'b';
    else if (!(shdr->sh_flags & SHF_WRITE))
        c = 'r';
    else
        c = 'd';
    unsigned bind = GELF_ST_BIND(sym.st_info);
    if (bind == STB_WEAK)
        return c == 't' ? 'W' : 'V';
    return bind == STB_LOCAL ? c : static_cast<char>(c - 'a' + 'A');
}

// Whether the 6.1 module loader keeps a symbol of a module in the module's kallsyms
// (kernel/module/kallsyms.c, is_core_symbol() with CONFIG_KALLSYMS_ALL): defined in a
// real section (not UNDEF, ABS or COMMON), named, in an allocated section that is not
// part of the init layout (".init*", freed after init; Debian has MODULE_UNLOAD, so
// ".exit*" stays). The loader clears SHF_ALLOC of .modinfo and __versions before it
// looks (rewrite_section_headers), so their symbols go too. Livepatch resolution counts
// positions over exactly these symbols, in symbol-table order. For an object not yet
// linked, sections that scripts/module.lds discards (.discard*) never reach the .ko.
bool kept_by_module_loader(const GElf_Sym &sym, const char *name, const GElf_Shdr *shdr,
                           const char *section_name, size_t nsections)
{
    if (sym.st_shndx == SHN_UNDEF || sym.st_shndx >= nsections || !name || !*name || !shdr)
        return false;
    if (!(shdr->sh_flags & SHF_ALLOC))
        return false;
    if (!section_name)
        return true;
    std::string_view sec(section_name);
    return !sec.starts_with(".init") && !sec.starts_with(".discard") && sec != ".modinfo" &&
           sec != "__versions";
}

} // namespace

Expected<KernelSymbols> KernelSymbols::from_vmlinux(const std::string &path)
{
    return read_elf(path, ElfKind::Vmlinux);
}

Expected<KernelSymbols> KernelSymbols::from_module(const std::string &path)
{
    return read_elf(path, ElfKind::Module);
}

Expected<KernelSymbols> KernelSymbols::from_module_object(const std::string &path)
{
    return read_elf(path, ElfKind::ModuleObject);
}

Expected<KernelSymbols> KernelSymbols::read_elf(const std::string &path, ElfKind kind)
{
    const bool module = kind != ElfKind::Vmlinux;
    elf_version(EV_CURRENT);
    FdCloser fd{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
    if (fd.fd < 0)
        return make_error(std::string("cannot open: ") + std::strerror(errno)).in(path);
    std::unique_ptr<Elf, ElfCloser> elf(elf_begin(fd.fd, ELF_C_READ_MMAP, nullptr));
    if (!elf || elf_kind(elf.get()) != ELF_K_ELF)
        return make_error(std::string("not an ELF file: ") + elf_errmsg(-1)).in(path);

    Elf_Scn *symtab = nullptr;
    GElf_Shdr symtab_hdr;
    for (Elf_Scn *scn = elf_nextscn(elf.get(), nullptr); scn; scn = elf_nextscn(elf.get(), scn)) {
        GElf_Shdr hdr;
        if (gelf_getshdr(scn, &hdr) && hdr.sh_type == SHT_SYMTAB) {
            symtab = scn;
            symtab_hdr = hdr;
            break;
        }
    }
    if (!symtab)
        return make_error("no symbol table (stripped?); use the unstripped vmlinux of the "
                          "-dbg package or the target's /proc/kallsyms").in(path);
    Elf_Data *data = elf_getdata(symtab, nullptr);
    if (!data || symtab_hdr.sh_entsize == 0)
        return make_error(std::string("unreadable symbol table: ") + elf_errmsg(-1)).in(path);

    size_t nsections = 0;
    elf_getshdrnum(elf.get(), &nsections);
    std::vector<std::optional<GElf_Shdr>> sections(nsections);
    for (size_t i = 1; i < nsections; ++i) {
        GElf_Shdr hdr;
        if (Elf_Scn *scn = elf_getscn(elf.get(), i); scn && gelf_getshdr(scn, &hdr))
            sections[i] = hdr;
    }

    size_t shstrndx = 0;
    elf_getshdrstrndx(elf.get(), &shstrndx);
    KernelSymbols table;
    table.kind_ = module ? SourceKind::Module : SourceKind::Vmlinux;
    table.origin_ = path;
    size_t count = symtab_hdr.sh_size / symtab_hdr.sh_entsize;
    table.symbols_.reserve(count);
    for (size_t i = 1; i < count; ++i) {
        GElf_Sym sym;
        if (!gelf_getsym(data, static_cast<int>(i), &sym))
            return make_error("symbol " + std::to_string(i) + " unreadable").in(path);
        unsigned type = GELF_ST_TYPE(sym.st_info);
        if (sym.st_shndx == SHN_UNDEF || type == STT_SECTION || type == STT_FILE)
            continue;
        const char *name = elf_strptr(elf.get(), symtab_hdr.sh_link, sym.st_name);
        if (!name || !*name)
            continue;
        const GElf_Shdr *shdr = sym.st_shndx < sections.size() && sections[sym.st_shndx]
                                    ? &*sections[sym.st_shndx] : nullptr;
        if (module && !kept_by_module_loader(sym, name, shdr,
                                             shdr ? elf_strptr(elf.get(), shstrndx, shdr->sh_name) : nullptr,
                                             nsections))
            continue;
        table.symbols_.push_back(Symbol{sym.st_value, nm_letter(sym, shdr), name, sym.st_size});
    }
    if (table.symbols_.empty() && kind != ElfKind::ModuleObject)
        return make_error("the symbol table has no defined symbols").in(path);
    // A module's symbols are counted in symbol-table order (its section-relative values
    // say nothing about order); vmlinux's in kallsyms order: by address, ties in
    // symbol-table order.
    if (!module)
        std::stable_sort(table.symbols_.begin(), table.symbols_.end(),
                     [](const Symbol &a, const Symbol &b) { return a.address < b.address; });
    table.index();
    return table;
}

} // namespace kpatch::symbols
