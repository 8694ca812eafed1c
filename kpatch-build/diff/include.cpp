// Pass 5 (pipeline.cpp), include: what the patch object must carry, starting from the changed and new functions (licence: GPL-2.0-only).
//
// A section is copied when the kernel does not already have what it holds: the changed
// and new functions (under all their names, aliases.cpp), new global variables (another
// object of the patch may use them), the .cold parts of copied functions, new data, read-only data whose
// content changed, strings, anonymous constants, local read-only constants (constants.cpp
// says which: `__func__.N`, const arrays), and .altinstr_replacement when an
// alternative of a copied function is kept. Everything else that copied code refers to
// exists in the kernel and is referred to, not copied (output.cpp decides how). Special
// entries of copied functions are followed too, since their relocations can pull in
// strings (bug table file names) or replacement code.
#include <elf.h>

#include <set>

#include "diff/passes.hpp"

namespace kpatch::diff {
namespace {

bool ignorable(const arch::Arch &arch, const Section &s)
{
    return s.is_text() || s.name.rfind(".debug_", 0) == 0 || s.name.rfind(".discard.", 0) == 0 ||
           is_special_section(arch, s.name) || s.type == SHT_RELA;
}

class Includer {
public:
    Includer(const Correlation &c, const Comparison &cmp, CodeIndex &code, const PrivateConstants &k,
             Inclusion &inc)
        : corr(c), cmp(cmp), code(code), constants(k), inc(inc) {}

    void copy(const Section *s)
    {
        if (s && inc.copied.insert(s).second)
            queue.push_back(s);
    }
    // Defines `s` in the output; a function with several names gets all of them, so
    // copied code that calls it by any name reaches the copy (aliases.cpp).
    void emit(const Symbol *s)
    {
        inc.emitted.insert(s);
        for (auto *name : cmp.aliases.names(s))
            inc.emitted.insert(name);
        copy(s->section);
    }

    // Whether copied code must carry its own copy of symbol `x` (else the kernel's is used).
    bool needs_copy(const Symbol &x) const
    {
        if (!x.is_defined())
            return false;
        // A table of addresses inside a copied function (computed goto: `&&label`)
        // describes the new code: the kernel's copy points into the old function.
        if (x.is_object() && x.section && code_tables.count(x.section))
            return true;
        if (x.is_function() && is_cold_part(x.name))
            return true;   // it jumps back into its parent: only the new parent's will do
        Status st = cmp.of(&x);
        if (st == Status::New || constants.symbols.count(&x))
            return true;
        if (x.is_function())
            return st == Status::Changed;
        if (x.is_object())
            return st == Status::Changed && !(x.section->flags & SHF_WRITE);
        return !corr.twin(&x);   // labels and other symbols the kernel cannot have
    }

    void follow(const Section &where, const Relocation &r)
    {
        Referent ref = code.resolve(where, r);
        switch (ref.kind) {
        case Referent::Kind::Symbol:
            if (needs_copy(*ref.symbol))
                emit(ref.symbol);
            break;
        case Referent::Kind::String:
        case Referent::Kind::Section:
            copy(ref.section);
            break;
        case Referent::Kind::None:
            break;
        }
    }

    // Copies what `r` points at, whether or not the kernel has an equal copy.
    void copy_referent(const Section &where, const Relocation &r)
    {
        Referent ref = code.resolve(where, r);
        if (ref.kind == Referent::Kind::Symbol)
            emit(ref.symbol);
        else if (ref.kind != Referent::Kind::None)
            copy(ref.section);
    }

    void drain()
    {
        while (!queue.empty()) {
            const Section *s = queue.back();
            queue.pop_back();
            if (s->relocations)
                for (auto &r : s->relocations->entries)
                    follow(*s, r);
        }
    }

    const Correlation &corr;
    const Comparison &cmp;
    CodeIndex &code;
    const PrivateConstants &constants;
    Inclusion &inc;
    std::vector<const Section *> queue;
    std::set<const Section *> code_tables;   // see interior_code_tables()
};

// Data sections holding addresses inside (not at the start of) a changed or new
// function: label tables of computed gotos (`static const void *t[] = {&&a, &&b}`).
// Such a table belongs to the code it points into, so it is copied with it: the copy's
// relocations then point into the new function. (A writable one is refused at the end.)
std::set<const Section *> interior_code_tables(const Comparison &cmp, CodeIndex &code)
{
    std::set<const Section *> tables;
    for (auto &sp : code.object().sections) {
        const Section &s = *sp;
        if (ignorable(code.arch(), s) || !s.relocations)
            continue;
        for (auto &r : s.relocations->entries) {
            Referent ref = code.resolve(s, r);
            if (ref.kind == Referent::Kind::Symbol && ref.symbol->is_function() && ref.position > 0 &&
                cmp.of(ref.symbol) != Status::Same) {
                tables.insert(&s);
                break;
            }
        }
    }
    return tables;
}

} // namespace

Inclusion include(const Correlation &corr, const Comparison &cmp, CodeIndex &code_p,
                  const SpecialLayout &special_p, const PrivateConstants &constants)
{
    Inclusion inc;
    Includer in(corr, cmp, code_p, constants, inc);
    in.code_tables = interior_code_tables(cmp, code_p);
    for (auto *f : cmp.changed_functions)
        in.emit(f);
    for (auto *f : cmp.new_functions)
        in.emit(f);
    for (auto *d : cmp.new_globals)
        in.emit(d);
    // Special entries of copied code may pull in more, which may own more entries.
    for (size_t before = SIZE_MAX; before != inc.copied.size();) {
        before = inc.copied.size();
        in.drain();
        for (auto &[name, list] : special_p.entries)
            for (auto &e : list)
                if (e.owner && inc.copied.count(e.owner))
                    for (auto *r : e.relocations)
                        if (entries_point_at_records(name))
                            in.copy_referent(*e.section, *r);
                        else
                            in.follow(*e.section, *r);
        in.drain();
    }
    for (auto *s : inc.emitted)
        if (s->is_object() && cmp.of(s) == Status::New)
            inc.new_data.push_back(s);
    std::sort(inc.new_data.begin(), inc.new_data.end(),
              [](const Symbol *a, const Symbol *b) { return a->original_index < b->original_index; });

    // A known table no entry size fits (special.cpp says why): the copied functions'
    // entries cannot be told from their neighbours', so they can be neither kept nor
    // dropped safely. Tables that describe only functions the patch leaves alone are
    // simply not carried.
    const Object &patched = code_p.object();
    for (auto &[name, why] : special_p.undelimited) {
        const Section *s = patched.find_section(name);
        if (!s || !s->relocations)
            continue;
        for (auto &r : s->relocations->entries) {
            Referent ref = code_p.resolve(*s, r);
            const Section *target = ref.kind == Referent::Kind::Symbol ? ref.symbol->section
                                    : ref.kind == Referent::Kind::Section ? ref.section : nullptr;
            if (!target || !target->is_text() || !inc.copied.count(target))
                continue;
            int64_t at = ref.kind == Referent::Kind::Symbol ? static_cast<int64_t>(ref.symbol->value) + ref.offset
                                                            : ref.offset;
            const Symbol *f = code_p.covering(*target, at);
            inc.refusals.push_back("section " + name + " has entries for function `" +
                                   (f ? f->name : target->name) + "` that cannot be delimited: " + why);
            break;
        }
    }

    // A table the differ does not know that points into the middle of copied code
    // describes instructions of it: dropping it silently could break the patch.
    for (auto &sp : patched.sections) {
        const Section &s = *sp;
        if (ignorable(code_p.arch(), s) || !s.relocations)
            continue;
        for (auto &r : s.relocations->entries) {
            Referent ref = code_p.resolve(s, r);
            if (ref.kind != Referent::Kind::Symbol || !ref.symbol->is_function() ||
                !inc.emitted.count(ref.symbol) || ref.position <= 0)
                continue;
            if (in.code_tables.count(&s) && inc.copied.count(&s) && !(s.flags & SHF_WRITE))
                break;   // a label table copied with its function
            if (in.code_tables.count(&s) && (s.flags & SHF_WRITE)) {
                inc.refusals.push_back("writable data " + s.name + " holds addresses inside function `" +
                                       ref.symbol->name + "` (a computed-goto table that code may change at "
                                       "run time): the old and new function cannot share it; keep the table "
                                       "const or leave this function unchanged");
                break;
            }
            inc.refusals.push_back("section " + s.name + " has entries for function `" +
                                   ref.symbol->name +
                                   "` that the differ does not know how to keep (unknown special section): "
                                   "leave this function unchanged, or teach special.cpp the section's "
                                   "entry size and what its entries point to");
            break;
        }
    }
    include_hooks(code_p, inc);
    return inc;
}

} // namespace kpatch::diff
