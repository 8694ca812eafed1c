// Pass 4, output: builds the patch object from the copied sections, the kept special entries and the .kpatch.funcs table (licence: GPL-2.0-only).
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

#include "diff/passes.hpp"

namespace kpatch::diff {
namespace {

// struct kpatch_funcs_entry (kmod/include/kpatch.h): twelve __u64 fields.
constexpr unsigned funcs_entry_size = 12 * 8;
enum FuncsField {
    NewFunc = 0, OldName = 8, Sympos = 16, OldSize = 24, Flags = 32,
    VerifyBytes = 40, VerifyMask = 48, VerifyLen = 56,
    ObjName = 64, OldColdName = 72, OldColdSympos = 80, NewCold = 88,
};
constexpr uint64_t flag_no_stack_check = 0x1;   // KPATCH_FUNC_NO_STACK_CHECK
constexpr uint64_t flag_verify_padding = 0x2;   // KPATCH_FUNC_VERIFY_PADDING

class Builder {
public:
    Builder(OutputContext &c, DiffResult &r) : ctx(c), result(r), out(std::make_unique<Object>()) {}

    Expected<void> run();

private:
    Section &clone_section(const Section &s);
    Expected<Relocation> convert(const Section &where, const Relocation &r, uint64_t new_offset);
    Expected<Symbol *> kernel_reference(const Symbol &patched, const std::string &name, bool local,
                                        uint8_t type);
    Symbol *patch_reference(const Symbol &undefined);
    Expected<void> copy_relocations(const Section &s);
    Expected<void> special_sections();
    Expected<void> funcs_table();
    Expected<void> verify_entry(const Symbol &old, Section &tab, uint64_t at);
    void put_u64(Section &s, uint64_t at, uint64_t v) { std::memcpy(s.data.data() + at, &v, 8); }

    OutputContext &ctx;
    DiffResult &result;
    std::unique_ptr<Object> out;
    std::unordered_map<const Section *, Section *> sections;
    std::unordered_map<const Symbol *, Symbol *> symbols;
    std::unordered_map<std::string, Symbol *> externals;
    std::string current_section;   // for KlpReference records
    uint64_t current_offset = 0;
    uint32_t current_type = 0;
    std::optional<KlpReference> pending_klp;   // made by kernel_reference, recorded by convert
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

Expected<Symbol *> Builder::kernel_reference(const Symbol &patched, const std::string &name,
                                             bool local, uint8_t type)
{
    const SymbolResolver *res = ctx.options.symbols;
    bool exported = !local && res && res->is_exported(name).value_or(false);
    std::string out_name = name;
    unsigned long pos = 0;
    if (!exported) {
        if (res) {
            auto p = res->position(name, local, ctx.orig_defined);
            if (!p)
                return Error{"cannot tell which kernel symbol `" + name + "` is meant: " +
                             p.error().message};
            pos = *p;
        }
        out_name = klp_symbol_name(ctx.options.klp_object, name, pos);
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
    if (!exported)
        pending_klp = KlpReference{current_section, current_offset,
                                   ctx.code_p.arch().type_name(current_type), name, pos, 0};
    (void)patched;
    return sym;
}

Symbol *Builder::patch_reference(const Symbol &undefined)
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
    return sym;
}

Expected<Relocation> Builder::convert(const Section &where, const Relocation &r, uint64_t new_offset)
{
    Relocation nr{new_offset, r.type, nullptr, r.addend};
    current_offset = new_offset;
    current_type = r.type;
    Referent ref = ctx.code_p.resolve(where, r);
    auto finish = [&](Expected<Symbol *> s, int64_t addend) -> Expected<Relocation> {
        if (!s)
            return s.error();
        nr.symbol = *s;
        nr.addend = addend;
        if (pending_klp) {
            pending_klp->addend = addend;
            result.klp.push_back(std::move(*pending_klp));
            pending_klp.reset();
        }
        return nr;
    };
    switch (ref.kind) {
    case Referent::Kind::None:
        return nr;
    case Referent::Kind::String:
    case Referent::Kind::Section: {
        auto it = sections.find(ref.section);
        if (it == sections.end())
            return Error{"internal: section " + ref.section->name + " referred to but not copied"};
        return finish(&out->section_symbol_of(*it->second), ref.offset);
    }
    case Referent::Kind::Symbol:
        break;
    }
    const Symbol &x = *ref.symbol;
    if (auto it = symbols.find(&x); it != symbols.end())
        return finish(it->second, ref.offset);
    // Checked first: a new function of the patch may share its name with a kernel symbol
    // (a static elsewhere), and the patch means its own.
    if (!x.is_defined() && ctx.options.patch_symbols.count(x.name))
        return finish(patch_reference(x), ref.offset);
    if (!x.is_defined())
        return finish(kernel_reference(x, x.name, false, x.type), ref.offset);
    if (const Symbol *twin = ctx.corr.twin(&x))
        return finish(kernel_reference(x, twin->name, twin->is_local(), twin->type), ref.offset);
    // A symbol the kernel cannot have (a label) in a copied section: by section offset.
    auto it = sections.find(x.section);
    if (it == sections.end())
        return Error{"internal: `" + x.name + "` referred to but neither copied nor in the kernel"};
    return finish(&out->section_symbol_of(*it->second), ref.offset + static_cast<int64_t>(x.value));
}

Expected<void> Builder::copy_relocations(const Section &s)
{
    if (!s.relocations || s.relocations->entries.empty())
        return {};
    auto &rs = out->relocations_for(*sections.at(&s));
    current_section = s.name;
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
        current_section = s.name;
        std::vector<Relocation> relocs;
        for (auto *e : kept) {
            uint64_t base = s.data.size();
            // Entries were cut by entry size; a corrupt section (or a SHT_NOBITS one) may
            // have no bytes behind them.
            if (e->offset > sp->data.size() || e->size > sp->data.size() - e->offset)
                return Error{"entry at offset " + std::to_string(e->offset) +
                             " runs past the end of the section"}.in(sp->name);
            s.data.insert(s.data.end(), sp->data.begin() + e->offset, sp->data.begin() + e->offset + e->size);
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
        unsigned long pos = 0;
        if (ctx.options.symbols) {
            auto p = ctx.options.symbols->position(old->name, old->is_local(), ctx.orig_defined);
            if (!p)
                return Error{"cannot tell which kernel function `" + old->name + "` is patched: " +
                             p.error().message};
            pos = *p;
        }
        uint64_t at = tab.data.size();
        tab.data.resize(at + funcs_entry_size, 0);
        uint64_t name_at = str.data.size();
        str.data.insert(str.data.end(), old->name.begin(), old->name.end());
        str.data.push_back(0);
        put_u64(tab, at + Sympos, pos);
        put_u64(tab, at + OldSize, old->size);
        rs.entries.push_back(Relocation{at + NewFunc, abs64, symbols.at(f), 0});
        rs.entries.push_back(Relocation{at + OldName, abs64, &out->section_symbol_of(str),
                                        static_cast<int64_t>(name_at)});
        if (auto ok = verify_entry(*old, tab, at); !ok)
            return ok.error();
        if (ctx.markers && ctx.markers->is_unsafe(*f)) {
            uint64_t flags;
            std::memcpy(&flags, tab.data.data() + at + Flags, 8);
            put_u64(tab, at + Flags, flags | flag_no_stack_check);
        }
        result.changed.push_back(ChangedFunction{f->name, old->name, pos, old->size, f->size});
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

Expected<void> Builder::run()
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
                return e;
    if (auto e = special_sections(); !e)
        return e;
    if (auto e = funcs_table(); !e)
        return e;
    auto note = std::make_unique<Section>();
    note->name = ".note.GNU-stack";
    note->type = SHT_PROGBITS;
    out->add_section(std::move(note));
    for (auto *f : ctx.cmp.new_functions)
        result.new_functions.push_back(f->name);
    for (auto *d : ctx.inc.new_data)
        result.new_data.push_back(d->name);
    result.output = std::move(out);
    return {};
}

} // namespace

Expected<void> build_output(OutputContext &ctx, DiffResult &result)
{
    Builder b(ctx, result);
    return b.run();
}

} // namespace kpatch::diff
