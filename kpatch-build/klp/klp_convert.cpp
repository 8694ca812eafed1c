// The .klp.rela conversion over the ELF object model (licence: GPL-2.0-only).
#include "klp/klp_convert.hpp"

#include <cctype>
#include <elf.h>
#include <map>
#include <unordered_map>

#include "arch/arch.hpp"

namespace kpatch::klp {
namespace {

constexpr std::string_view prefix = ".klp.sym.";
constexpr std::string_view owner_section = ".kpatch.klp_owner";   // diff/passes.hpp

// The livepatch object of a placeholder name `.klp.sym.<obj>.<name>,<pos>`, checked.
Expected<std::string> object_of(const std::string &name)
{
    std::string_view rest = std::string_view(name).substr(prefix.size());
    size_t dot = rest.find('.');
    size_t comma = rest.rfind(',');
    if (dot == std::string_view::npos || dot == 0 || comma == std::string_view::npos ||
        comma < dot + 2 || comma + 1 == rest.size())
        return Error{"malformed livepatch symbol name '" + name + "' (want .klp.sym.OBJ.NAME,POS)"};
    for (char c : rest.substr(comma + 1))
        if (!std::isdigit(static_cast<unsigned char>(c)))
            return Error{"livepatch symbol '" + name + "' has a bad position"};
    return std::string(rest.substr(0, dot));
}

// The differ's record of sections that refer to another module's symbols and the module
// whose code they are ("SECTION\0OWNER\0"...). One section name with two owners (two
// objects' sections merged by the link) cannot be told apart: an error.
Expected<std::map<std::string, std::string>> owners(const elf::Object &module)
{
    std::map<std::string, std::string> out;
    for (auto &sp : module.sections) {
        if (sp->name != owner_section)
            continue;
        std::vector<std::string> parts;
        std::string cur;
        for (uint8_t c : sp->data) {
            if (c) {
                cur += static_cast<char>(c);
            } else {
                parts.push_back(cur);
                cur.clear();
            }
        }
        for (size_t i = 0; i + 1 < parts.size(); i += 2) {
            auto [it, fresh] = out.emplace(parts[i], parts[i + 1]);
            if (!fresh && it->second != parts[i + 1])
                return Error{"section " + parts[i] + " holds code of both " + it->second + " and " +
                             parts[i + 1] + " that refers to other modules' symbols; their "
                             "relocations cannot be split by module"};
        }
    }
    return out;
}

// Plain code and data of the patch, which nothing reads before the patch module's init:
// the core may write vmlinux relocations there at registration. Everything else is read
// or rewritten by the loader and its COMING notifiers first (.static_call_sites and
// __jump_table keys, alternatives, per-CPU data copied at load, init code).
bool core_writable(const elf::Section &s)
{
    if (s.name.starts_with(".data..percpu"))
        return false;
    for (std::string p : {".text", ".data", ".rodata", ".bss"})
        if (s.name == p || s.name.starts_with(p + "."))
            return true;
    return false;
}

// The sections whose entries point at code that the loader (module_finalize: alternatives,
// paravirt, retpolines, returns, IBT) or a COMING notifier (static calls, jump labels,
// ftrace's call sites) rewrites before the patch module's init runs, and how many bytes
// from where an entry points may be rewritten (an instruction; an alternative's or a
// paravirt patch's original sequence). Relocations there are written by the loader, first.
uint64_t site_window(const std::string &section)
{
    if (section == ".altinstructions" || section == ".parainstructions")
        return 64;
    if (section == ".retpoline_sites")
        return 6;   // an indirect call or jump through a thunk (a conditional one: 6 bytes)
    if (section == ".ibt_endbr_seal")
        return 4;
    for (const char *s : {".static_call_sites", "__jump_table", ".return_sites", ".call_sites",
                          "__mcount_loc", "__patchable_function_entries"})
        if (section == s)
            return 5;   // a call or jump rel32 (or the 5-byte nop in its place)
    return 0;
}

using Windows = std::map<const elf::Section *, std::vector<std::pair<uint64_t, uint64_t>>>;

Windows special_sites(const elf::Object &module)
{
    Windows out;
    for (auto &sp : module.sections) {
        if (sp->type != SHT_RELA)
            continue;
        auto &rs = static_cast<const elf::RelocationSection &>(*sp);
        uint64_t window = rs.target ? site_window(rs.target->name) : 0;
        if (!window)
            continue;
        for (auto &r : rs.entries) {
            if (!r.symbol || r.symbol->placement != elf::Placement::InSection ||
                !core_writable(*r.symbol->section))
                continue;
            int64_t at = static_cast<int64_t>(r.symbol->value) + r.addend;
            uint64_t from = at < 0 ? 0 : static_cast<uint64_t>(at);
            out[r.symbol->section].emplace_back(from, from + window);
        }
    }
    return out;
}

// Does the WIDTH bytes at OFFSET of S overlap a site?
bool in_window(const Windows &w, const elf::Section *s, uint64_t offset, unsigned width)
{
    auto it = w.find(s);
    if (it == w.end())
        return false;
    for (auto &[from, to] : it->second)
        if (offset + width > from && offset < to)
            return true;
    return false;
}

// The loader keeps a module's section headers and whole symbol table after the load
// (mod->klp_info, which the core writes .klp.rela sections from) only for a module whose
// .modinfo says livepatch=Y; so every module with such sections says it. (Every .ko has
// a .modinfo: the loader checks its vermagic there.)
Expected<void> mark_livepatch(elf::Object &module)
{
    static const std::string entry = "livepatch=Y";
    for (auto &sp : module.sections) {
        if (sp->name != ".modinfo")
            continue;
        std::string text(sp->data.begin(), sp->data.end());
        for (size_t at = 0; at < text.size(); at = text.find('\0', at) + 1) {
            if (text.compare(at, entry.size() + 1, entry + '\0') == 0)
                return {};
            if (text.find('\0', at) == std::string::npos)
                break;
        }
        // Entries are NUL-terminated strings one after another, padding NULs between.
        sp->data.insert(sp->data.end(), entry.begin(), entry.end());
        sp->data.push_back(0);
        return {};
    }
    return {};  // not a module (a test object): nothing loads it
}

} // namespace

Expected<ConvertStats> convert(elf::Object &module)
{
    auto owner_of = owners(module);
    if (!owner_of)
        return owner_of.error();
    auto arch = arch::Arch::for_machine(module.machine);
    if (!arch)
        return arch.error();
    ConvertStats stats;
    std::unordered_map<const elf::Symbol *, std::string> objects;
    for (auto &s : module.symbols) {
        if (s->name.rfind(prefix, 0) != 0)
            continue;
        if (s->placement == elf::Placement::Livepatch)
            continue;   // converted before
        if (s->placement != elf::Placement::Undefined)
            return Error{"livepatch symbol '" + s->name + "' is defined in the module"};
        auto obj = object_of(s->name);
        if (!obj)
            return obj.error();
        objects[s.get()] = *obj;
    }

    const Windows sites = special_sites(module);
    // Collect first, then add sections (adding invalidates no pointers, but keeps loops simple).
    std::map<std::pair<std::string, elf::Section *>, std::vector<elf::Relocation>> moved;
    for (auto &sp : module.sections) {
        if (sp->type != SHT_RELA || (sp->flags & elf::SHF_RELA_LIVEPATCH))
            continue;
        auto &rs = static_cast<elf::RelocationSection &>(*sp);
        std::vector<elf::Relocation> kept;
        for (auto &r : rs.entries) {
            auto it = r.symbol ? objects.find(r.symbol) : objects.end();
            if (it == objects.end()) {
                kept.push_back(r);
                continue;
            }
            elf::Section &target = *rs.target;
            unsigned w = (*arch)->width(r.type);
            if (w == 0)
                return Error{"relocation of unknown type " + std::to_string(r.type) + " against '" +
                             r.symbol->name + "' in " + rs.name};
            if (target.type != SHT_NOBITS) {
                if (r.offset + w > target.data.size())
                    return Error{"relocation against '" + r.symbol->name + "' lies outside " + target.name};
                for (unsigned i = 0; i < w; i++)
                    target.data[r.offset + i] = 0;   // the loader refuses nonzero targets
            }
            // A module's code reaching another module's symbol is relocated when its own
            // module loads (.klp.rela.<owner>); vmlinux's symbols always from vmlinux's.
            std::string group = it->second;
            if (auto o = owner_of->find(target.name); o != owner_of->end() && group != "vmlinux")
                group = o->second;
            // vmlinux's go to the core (kmod/core/relocs.c), which resolves each symbol
            // once, where nothing reads them before it: the loader walks all of kallsyms
            // for each relocation it writes.
            if (group == "vmlinux" && core_writable(target) && !in_window(sites, &target, r.offset, w))
                group = kCoreVmlinuxObject;
            moved[{group, &target}].push_back(r);
        }
        rs.entries = std::move(kept);
    }
    for (auto &[key, relocs] : moved) {
        auto rs = std::make_unique<elf::RelocationSection>();
        rs->name = ".klp.rela." + key.first + "." + key.second->name;
        rs->type = SHT_RELA;
        rs->flags = SHF_ALLOC | SHF_INFO_LINK | elf::SHF_RELA_LIVEPATCH;
        rs->addralign = 8;
        rs->entsize = sizeof(Elf64_Rela);
        rs->target = key.second;
        stats.relocations += relocs.size();
        rs->entries = std::move(relocs);
        module.add_section(std::move(rs));
        stats.sections++;
    }
    for (auto &[sym, obj] : objects) {
        auto *s = const_cast<elf::Symbol *>(sym);
        s->placement = elf::Placement::Livepatch;
        stats.symbols++;
    }
    if (stats.sections)
        if (auto ok = mark_livepatch(module); !ok)
            return ok.error();
    return stats;
}

} // namespace kpatch::klp
