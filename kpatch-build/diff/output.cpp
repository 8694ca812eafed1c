// Pass 6 (pipeline.cpp), output: builds the patch object from the copied sections, the kept special entries and the .kpatch.funcs table (licence: GPL-2.0-only).
//
// Every relocation of copied code is rewritten to one of four targets:
//   - something the output carries: its symbol there (or its section's symbol);
//   - something another object of the same patch carries (Options::patch_symbols, new
//     global functions and data): an undefined symbol of that name, which the module
//     link resolves inside the patch module;
//   - a kernel symbol that Module.symvers says is exported: an undefined symbol;
//   - any other kernel symbol (static, or not exported): a klp placeholder (klp.cpp),
//     named with the symbol's position among same-named kernel symbols.
// Names are the kernel's (the original object's): a function the compiler renumbered
// (foo.constprop.1 vs foo.constprop.0) is called by its name in the kernel.
#include <cstring>
#include <elf.h>
#include <map>
#include <set>

#include "diff/kpatch_abi.hpp"
#include "diff/passes.hpp"

namespace kpatch::diff {
namespace {

// struct kpatch_funcs_entry's layout and flags, from kmod/include/kpatch.h.
using namespace abi;

// A relocation's new target: the output's symbol, and the klp record when that symbol is
// a placeholder for a kernel symbol (its addend is filled by convert()).
struct Target {
    Symbol *symbol = nullptr;
    std::optional<KlpReference> klp;
};

class Builder {
public:
    explicit Builder(const OutputContext &c) : ctx(c), out(std::make_unique<Object>()) {}

    Expected<Output> run();

private:
    Section &clone_section(const Section &s);
    // `where`: the input section the relocation is in (the output section has its name).
    Expected<Relocation> convert(const Section &where, const Relocation &r, uint64_t new_offset);
    Expected<Target> kernel_reference(const Symbol &patched, const std::string &name, bool local,
                                      uint8_t type, const Section &where, uint64_t offset,
                                      uint32_t rtype);
    Target patch_reference(const Symbol &undefined);
    Expected<void> copy_relocations(const Section &s);
    Expected<void> special_sections();
    Expected<void> funcs_table();
    Expected<unsigned long> kernel_position(const Symbol &old, const char *what);
    Expected<void> cold_parts(const Symbol &f, const Symbol &old, Section &tab, uint64_t at,
                              ChangedFunction &entry);
    Expected<void> verify_entry(const Symbol &old, Section &tab, uint64_t at);
    void refuse_late_special(const std::string &name, const std::string &object,
                             const std::string &section);
    void owner_section();
    void put_u64(Section &s, uint64_t at, uint64_t v) { std::memcpy(s.data.data() + at, &v, 8); }

    const OutputContext &ctx;
    Output result;
    std::unique_ptr<Object> out;
    std::unordered_map<const Section *, Section *> sections;
    std::unordered_map<const Symbol *, Symbol *> symbols;
    std::unordered_map<std::string, Symbol *> externals;
    std::set<std::string> cross_module_sections;   // refer to another module's symbols
};

Section &Builder::clone_section(const Section &s)
{
    auto c = std::make_unique<Section>();
    c->name = s.name;
    c->type = s.type;
    c->flags = s.flags & ~static_cast<uint64_t>(SHF_GROUP);
    c->addralign = s.addralign;
    c->entsize = s.entsize;
    c->data = s.data;
    c->nobits_size = s.nobits_size;
    Section &ref = out->add_section(std::move(c));
    sections[&s] = &ref;
    return ref;
}

// Where a symbol the output does not carry lives (vmlinux, the patched module, another
// module) and how the output reaches it. From a module's code: the module's own symbols
// and other modules' exports through `.klp.sym.<module>.` placeholders (a plain
// undefined symbol would make the patch module depend on that module, so the patch could
// not load before it), vmlinux's exports as plain undefined symbols, the rest of vmlinux
// through `.klp.sym.vmlinux.`.
Expected<Target> Builder::kernel_reference(const Symbol &patched, const std::string &name,
                                           bool local, uint8_t type, const Section &where,
                                           uint64_t offset, uint32_t rtype)
{
    const SymbolResolver *res = ctx.options.symbols;
    const std::string &self = ctx.options.klp_object;
    std::string object = "vmlinux";
    bool exported = false;
    if (self != "vmlinux" && (patched.is_defined() || local || (res && res->module_defines(name)))) {
        object = self;
    } else if (std::string by = res && self != "vmlinux" ? res->exporter(name) : "";
               !by.empty() && by != "vmlinux") {
        object = by;
        if (by != self)
            cross_module_sections.insert(where.name);
    } else {
        exported = !local && res && res->is_exported(name);
    }
    std::string out_name = name;
    unsigned long pos = 0;
    if (!exported) {
        if (res && object == "vmlinux") {
            auto p = res->position(name, local, ctx.orig_defined);
            if (!p)
                return Error{"cannot tell which kernel symbol `" + name + "` is meant: " +
                             p.error().message};
            pos = *p;
        } else if (res && object == self) {
            auto p = res->module_position(name, local, ctx.orig_defined);
            if (!p)
                return Error{"cannot tell which symbol `" + name + "` of module " + self +
                             " is meant: " + p.error().message};
            pos = *p;
        }
        out_name = klp_symbol_name(object, name, pos);
        if (object != "vmlinux")
            refuse_late_special(name, object, where.name);
    }
    Symbol *&sym = externals[out_name];
    if (!sym) {
        auto s = std::make_unique<Symbol>();
        s->name = out_name;
        s->bind = STB_GLOBAL;
        s->type = exported ? STT_NOTYPE : type;
        s->placement = elf::Placement::Undefined;
        sym = &out->add_symbol(std::move(s));
        if (exported)
            result.undefined.push_back(name);
    }
    if (exported)
        return Target{sym, std::nullopt};
    return Target{sym, KlpReference{where.name, offset, ctx.code_p.arch().type_name(rtype), name, pos, 0,
                                    object}};
}

// The module loader applies these sections when the patch module loads, long before a
// module's symbols are resolved into it (when the module loads, maybe never): an entry
// that needs one would be processed with a zero in place of its address. A static key
// or static call key in a module is the usual case. Alternatives' replacement code is copied
// into the function when the patch module loads, so a call in it to a module's function
// would be copied with its target still unwritten.
void Builder::refuse_late_special(const std::string &name, const std::string &object,
                                  const std::string &section)
{
    static const std::map<std::string, std::string, std::less<>> why = {
        {"__jump_table", "a static key (static_branch_*/static_key_*) whose key"},
        {".static_call_sites", "a static call whose key"},
        {".altinstructions", "an alternative instruction entry whose target"},
        {".altinstr_replacement", "alternative replacement code whose call or jump target"},
        {".parainstructions", "a paravirt patch site whose target"},
    };
    auto it = why.find(section);
    if (it == why.end())
        return;
    result.refusals.push_back(ctx.options.object_path + ": " + section + " refers to `" +
                              name + "` of module " + object + ": " + it->second +
                              " lives in a module cannot be used by a patch, because the module "
                              "loader processes " + section + " when the patch module "
                              "loads, before " + object + "'s symbols can be resolved; use an "
                              "ordinary branch or call in the patched code");
}

Target Builder::patch_reference(const Symbol &undefined)
{
    Symbol *&sym = externals[undefined.name];
    if (!sym) {
        auto s = std::make_unique<Symbol>();
        s->name = undefined.name;
        s->bind = STB_GLOBAL;
        s->type = undefined.type;
        s->placement = elf::Placement::Undefined;
        sym = &out->add_symbol(std::move(s));
        result.from_patch.push_back(undefined.name);
    }
    return Target{sym, std::nullopt};
}

Expected<Relocation> Builder::convert(const Section &where, const Relocation &r, uint64_t new_offset)
{
    Relocation nr{new_offset, r.type, nullptr, r.addend};
    Referent ref = ctx.code_p.resolve(where, r);
    auto finish = [&](Expected<Target> t, int64_t addend) -> Expected<Relocation> {
        if (!t)
            return t.error();
        nr.symbol = t->symbol;
        nr.addend = addend;
        if (t->klp) {
            t->klp->addend = addend;
            result.klp.push_back(std::move(*t->klp));
        }
        return nr;
    };
    auto reference = [&](const Symbol &patched, const std::string &name, bool local, uint8_t type) {
        return kernel_reference(patched, name, local, type, where, new_offset, r.type);
    };
    switch (ref.kind) {
    case Referent::Kind::None:
        return nr;
    case Referent::Kind::String:
    case Referent::Kind::Section: {
        auto it = sections.find(ref.section);
        if (it == sections.end())
            return Error{"internal: section " + ref.section->name + " referred to but not copied"};
        return finish(Target{&out->section_symbol_of(*it->second), std::nullopt}, ref.offset);
    }
    case Referent::Kind::Symbol:
        break;
    }
    const Symbol &x = *ref.symbol;
    if (auto it = symbols.find(&x); it != symbols.end())
        return finish(Target{it->second, std::nullopt}, ref.offset);
    // Checked first: a new function of the patch may share its name with a kernel symbol
    // (a static elsewhere), and the patch means its own.
    if (!x.is_defined() && ctx.options.patch_symbols.count(x.name))
        return finish(patch_reference(x), ref.offset);
    if (!x.is_defined())
        return finish(reference(x, x.name, false, x.type), ref.offset);
    if (const Symbol *twin = ctx.corr.twin(&x))
        return finish(reference(x, twin->name, twin->is_local(), twin->type), ref.offset);
    // A symbol the kernel cannot have (a label) in a copied section: by section offset.
    auto it = sections.find(x.section);
    if (it == sections.end())
        return Error{"internal: `" + x.name + "` referred to but neither copied nor in the kernel"};
    return finish(Target{&out->section_symbol_of(*it->second), std::nullopt},
                  ref.offset + static_cast<int64_t>(x.value));
}

Expected<void> Builder::copy_relocations(const Section &s)
{
    if (!s.relocations || s.relocations->entries.empty())
        return {};
    auto &rs = out->relocations_for(*sections.at(&s));
    for (auto &r : s.relocations->entries) {
        auto nr = convert(s, r, r.offset);
        if (!nr)
            return nr.error().in("relocation at " + s.name + "+0x" + std::to_string(r.offset));
        rs.entries.push_back(*nr);
    }
    return {};
}

Expected<void> Builder::special_sections()
{
    for (auto &sp : ctx.patched.sections) {
        auto it = ctx.special_p.entries.find(sp->name);
        if (it == ctx.special_p.entries.end())
            continue;
        std::vector<const SpecialEntry *> kept;
        for (auto &e : it->second)
            if (e.owner && ctx.inc.copied.count(e.owner))
                kept.push_back(&e);
        if (kept.empty())
            continue;
        Section &s = clone_section(*sp);
        s.data.clear();
        std::vector<Relocation> relocs;
        for (auto *e : kept) {
            uint64_t base = s.data.size();
            // Entries were cut by entry size; a corrupt section (or a SHT_NOBITS one) may
            // have no bytes behind them.
            if (e->offset > sp->data.size() || e->size > sp->data.size() - e->offset)
                return Error{"entry at offset " + std::to_string(e->offset) +
                             " runs past the end of the section"}.in(sp->name);
            s.data.insert(s.data.end(), sp->data.begin() + e->offset, sp->data.begin() + e->offset + e->size);
            // A last entry without its tail padding gets it here: the kernel counts a
            // module's entries as section size / struct size.
            if (auto st = ctx.special_p.strides.find(sp->name); st != ctx.special_p.strides.end())
                s.data.resize(base + st->second, 0);
            for (auto *r : e->relocations) {
                auto nr = convert(*sp, *r, base + (r->offset - e->offset));
                if (!nr)
                    return nr.error().in(sp->name);
                relocs.push_back(*nr);
            }
        }
        if (!relocs.empty())
            out->relocations_for(s).entries = std::move(relocs);
        result.special_entries[s.name] = kept.size();
    }
    return {};
}

Expected<void> Builder::funcs_table()
{
    auto strings = std::make_unique<Section>();
    strings->name = ".kpatch.strings";
    strings->type = SHT_PROGBITS;
    strings->flags = SHF_ALLOC;
    Section &str = out->add_section(std::move(strings));
    auto funcs = std::make_unique<Section>();
    funcs->name = ".kpatch.funcs";
    funcs->type = SHT_PROGBITS;
    funcs->flags = SHF_ALLOC;
    funcs->addralign = 8;
    funcs->entsize = funcs_entry_size;
    Section &tab = out->add_section(std::move(funcs));
    auto &rs = out->relocations_for(tab);
    uint32_t abs64 = ctx.code_p.arch().absolute64();
    for (auto *f : ctx.cmp.changed_functions) {
        const Symbol *old = ctx.corr.twin(f);
        const std::string &object = ctx.options.klp_object;
        auto pos = kernel_position(*old, "function");
        if (!pos)
            return pos.error();
        uint64_t at = tab.data.size();
        tab.data.resize(at + funcs_entry_size, 0);
        uint64_t name_at = str.data.size();
        str.data.insert(str.data.end(), old->name.begin(), old->name.end());
        str.data.push_back(0);
        put_u64(tab, at + Sympos, *pos);
        put_u64(tab, at + OldSize, old->size);
        rs.entries.push_back(Relocation{at + NewFunc, abs64, symbols.at(f), 0});
        rs.entries.push_back(Relocation{at + OldName, abs64, &out->section_symbol_of(str),
                                        static_cast<int64_t>(name_at)});
        if (object != "vmlinux") {   // objname NULL = vmlinux (kpatch.h)
            uint64_t obj_at = str.data.size();
            str.data.insert(str.data.end(), object.begin(), object.end());
            str.data.push_back(0);
            rs.entries.push_back(Relocation{at + ObjName, abs64, &out->section_symbol_of(str),
                                            static_cast<int64_t>(obj_at)});
        }
        if (auto ok = verify_entry(*old, tab, at); !ok)
            return ok.error();
        if (ctx.markers && ctx.cmp.aliases.any_name(*f, [&](const Symbol &n) { return ctx.markers->is_unsafe(n); })) {
            uint64_t flags;
            std::memcpy(&flags, tab.data.data() + at + Flags, 8);
            put_u64(tab, at + Flags, flags | flag_no_stack_check);
        }
        ChangedFunction entry{f->name, old->name, object, *pos, old->size, f->size, {}, 0, {}, {}};
        // The kernel's other names for it: those at its address in the original.
        for (auto &s : ctx.orig.symbols)
            if (s.get() != old && s->is_function() && s->is_defined() && s->section == old->section &&
                s->value == old->value && !is_cold_part(s->name))
                entry.old_aliases.push_back(s->name);
        if (auto ok = cold_parts(*f, *old, tab, at, entry); !ok)
            return ok.error();
        result.changed.push_back(std::move(entry));
    }
    return {};
}

// OLD's sympos in its object, from the same symbol source for every name: kallsyms order
// for vmlinux, the module's own symbol table for a module.
Expected<unsigned long> Builder::kernel_position(const Symbol &old, const char *what)
{
    const SymbolResolver *res = ctx.options.symbols;
    if (!res)
        return 0ul;
    const std::string &object = ctx.options.klp_object;
    auto p = object == "vmlinux" ? res->position(old.name, old.is_local(), ctx.orig_defined)
                                 : res->module_position(old.name, old.is_local(), ctx.orig_defined);
    if (!p)
        return Error{std::string("cannot tell which ") + what + " `" + old.name + "` of " +
                     object + " is patched: " + p.error().message};
    return *p;
}

// The entry's cold-part fields: tasks can sleep in "<name>.cold" (reached by a jump, not a
// call), so the core's stack check must know both versions' parts.
Expected<void> Builder::cold_parts(const Symbol &f, const Symbol &old, Section &tab, uint64_t at,
                                   ChangedFunction &entry)
{
    uint32_t abs64 = ctx.code_p.arch().absolute64();
    auto &rs = out->relocations_for(tab);
    if (const Symbol *oc = cold_part_of(ctx.orig, old)) {
        auto pos = kernel_position(*oc, "cold part");
        if (!pos)
            return pos.error();
        Section &str = *out->find_section(".kpatch.strings");
        uint64_t name_at = str.data.size();
        str.data.insert(str.data.end(), oc->name.begin(), oc->name.end());
        str.data.push_back(0);
        put_u64(tab, at + OldColdSympos, *pos);
        rs.entries.push_back(Relocation{at + OldColdName, abs64, &out->section_symbol_of(str),
                                        static_cast<int64_t>(name_at)});
        entry.old_cold = oc->name;
        entry.old_cold_sympos = *pos;
    }
    if (const Symbol *nc = cold_part_of(ctx.patched, f)) {
        auto it = symbols.find(nc);
        if (it == symbols.end())
            return Error{"internal: the cold part `" + nc->name + "` of `" + f.name +
                         "` is not in the output"};
        rs.entries.push_back(Relocation{at + NewCold, abs64, it->second, 0});
        entry.new_cold = nc->name;
    }
    return {};
}

// The entry's verification fields: the original's bytes and mask, in .kpatch.verify.
Expected<void> Builder::verify_entry(const Symbol &old, Section &tab, uint64_t at)
{
    if (!ctx.special_o)
        return {};
    auto check = function_check(old, ctx.code_p.arch(), *ctx.special_o);
    // Without it the patch still works, it is only not checked at load: say so, go on.
    if (!check) {
        result.warnings.push_back(check.error().message + "; `" + old.name +
                                  "` will not be verified at load");
        return {};
    }
    if (check->bytes.empty())
        return {};
    if (check->bytes.size() < old.size)
        result.warnings.push_back("`" + old.name + "`: only its first " +
                                  std::to_string(check->bytes.size()) + " of " +
                                  std::to_string(old.size) + " bytes can be verified at load "
                                  "(a jump the kernel's assembler may have shortened follows)");
    Section *verify = out->find_section(".kpatch.verify");
    if (!verify) {
        auto s = std::make_unique<Section>();
        s->name = ".kpatch.verify";
        s->type = SHT_PROGBITS;
        s->flags = SHF_ALLOC;
        verify = &out->add_section(std::move(s));
    }
    uint64_t bytes_at = verify->data.size();
    verify->data.insert(verify->data.end(), check->bytes.begin(), check->bytes.end());
    uint64_t mask_at = verify->data.size();
    verify->data.insert(verify->data.end(), check->mask.begin(), check->mask.end());
    put_u64(tab, at + VerifyLen, check->bytes.size());
    if (check->padded)
        put_u64(tab, at + Flags, flag_verify_padding);
    uint32_t abs64 = ctx.code_p.arch().absolute64();
    auto &rs = out->relocations_for(tab);
    rs.entries.push_back(Relocation{at + VerifyBytes, abs64, &out->section_symbol_of(*verify),
                                    static_cast<int64_t>(bytes_at)});
    rs.entries.push_back(Relocation{at + VerifyMask, abs64, &out->section_symbol_of(*verify),
                                    static_cast<int64_t>(mask_at)});
    return {};
}

Expected<Output> Builder::run()
{
    const Object &p = ctx.patched;
    out->machine = p.machine;
    out->osabi = p.osabi;
    out->e_flags = p.e_flags;
    for (auto &s : p.sections)
        if (ctx.inc.copied.count(s.get()))
            clone_section(*s);
    for (auto &s : p.symbols) {
        if (!ctx.inc.emitted.count(s.get()))
            continue;
        auto c = std::make_unique<Symbol>(*s);
        c->section = sections.at(s->section);
        c->original_index = 0;
        symbols[s.get()] = &out->add_symbol(std::move(c));
    }
    for (auto &s : p.sections)
        if (ctx.inc.copied.count(s.get()))
            if (auto e = copy_relocations(*s); !e)
                return e.error();
    if (auto e = special_sections(); !e)
        return e.error();
    if (auto e = funcs_table(); !e)
        return e.error();
    owner_section();
    auto note = std::make_unique<Section>();
    note->name = ".note.GNU-stack";
    note->type = SHT_PROGBITS;
    out->add_section(std::move(note));
    for (auto *f : ctx.cmp.new_functions)
        result.new_functions.push_back(f->name);
    for (auto *d : ctx.inc.new_data)
        result.new_data.push_back(d->name);
    result.object = std::move(out);
    return std::move(result);
}

// Sections of this object that refer to another module's symbols, and the module whose
// code they belong to: after the link, kpatch-klp-convert puts such a relocation into
// `.klp.rela.<owner>.*` (written when the owner loads; the exporting module is loaded
// by then, as the owner depends on it) rather than `.klp.rela.<exporter>.*`. Not
// allocated: the kernel never sees it. Entries "SECTION\0OWNER\0".
void Builder::owner_section()
{
    if (cross_module_sections.empty())
        return;
    auto s = std::make_unique<Section>();
    s->name = std::string(klp_owner_section);
    s->type = SHT_PROGBITS;
    s->addralign = 1;
    for (const auto &name : cross_module_sections) {
        for (const std::string *part : {&name, &ctx.options.klp_object}) {
            s->data.insert(s->data.end(), part->begin(), part->end());
            s->data.push_back(0);
        }
    }
    out->add_section(std::move(s));
}

} // namespace

Expected<Output> build_output(const OutputContext &ctx)
{
    return Builder(ctx).run();
}

} // namespace kpatch::diff
