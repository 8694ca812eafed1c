// What a relocation refers to, said without symbol indices: a symbol and offset, a string, or a place in a section (licence: GPL-2.0-only).
//
// Compilers refer to local data and strings through section symbols plus an addend, and
// the addend of a PC-relative field in code also carries the distance to the end of the
// instruction. To find the object (or string) meant, that distance is taken from the
// instruction boundaries (Capstone, through arch/), decoded once per section on demand.
#include <algorithm>
#include <cstring>
#include <elf.h>

#include "diff/passes.hpp"

namespace kpatch::diff {

// Addends come from the input: a corrupt object may hold any value, and signed overflow
// would be undefined. Wrapped results are caught by the bounds checks that follow.
static int64_t wrap_add(int64_t a, int64_t b)
{
    return static_cast<int64_t>(static_cast<uint64_t>(a) + static_cast<uint64_t>(b));
}


CodeIndex::CodeIndex(const arch::Arch &arch, const Object &object) : arch_(arch), object_(object)
{
    for (auto &s : object.symbols)
        if (s->section && !s->is_section_symbol() && s->type != STT_FILE &&
            !(s->is_local() && s->type == STT_NOTYPE))   // labels are not objects
            by_section_[s->section].push_back(s.get());
    for (auto &[sec, list] : by_section_)
        std::stable_sort(list.begin(), list.end(),
                         [](const Symbol *a, const Symbol *b) { return a->value < b->value; });
}

const std::vector<const Symbol *> &CodeIndex::symbols_in(const Section &section) const
{
    static const std::vector<const Symbol *> none;
    auto it = by_section_.find(&section);
    return it == by_section_.end() ? none : it->second;
}

const Symbol *CodeIndex::function_of(const Section &section) const
{
    for (auto *s : symbols_in(section))
        if (s->is_function())
            return s;
    return nullptr;
}

const Symbol *CodeIndex::covering(const Section &section, int64_t offset) const
{
    const auto &list = symbols_in(section);
    // Symbols start at or before `offset`: the candidates end at upper_bound.
    auto end = std::upper_bound(list.begin(), list.end(), offset, [](int64_t off, const Symbol *s) {
        return off < static_cast<int64_t>(s->value);
    });
    const Symbol *best = nullptr;
    for (auto it = list.begin(); it != end; ++it) {
        const Symbol *s = *it;
        auto v = static_cast<int64_t>(s->value);
        auto e = v + static_cast<int64_t>(s->size);
        if (offset < e || (s->size == 0 && offset == v))
            if (!best || s->size > best->size)  // prefer the real object over an alias label
                best = s;
    }
    return best;
}

int64_t CodeIndex::bias(const Section &where, const Relocation &r)
{
    if (!arch_.is_pc_relative(r.type))
        return 0;
    if (!where.is_text())
        return 0;  // data: `.long target - .` carries no instruction tail
    auto it = insns_.find(&where);
    if (it == insns_.end()) {
        auto decoded = arch_.decode(where.data.data(), where.data.size());
        it = insns_.emplace(&where, decoded ? std::move(*decoded) : std::vector<arch::Insn>{}).first;
    }
    return arch_.pc_bias(it->second, r.offset, r.type);
}

Referent CodeIndex::resolve(const Section &where, const Relocation &r)
{
    Referent ref;
    const Symbol *s = r.symbol;
    if (!s)
        return ref;
    // Assembler-local labels (.LC0 and the like) name a place in a section, not an object.
    bool label = s->is_defined() && s->is_local() && s->type == STT_NOTYPE;
    if (!s->is_section_symbol() && !label) {
        ref.kind = Referent::Kind::Symbol;
        ref.symbol = s;
        ref.offset = r.addend;
        ref.position = wrap_add(r.addend, bias(where, r));
        return ref;
    }
    const Section *target = s->section;
    if (!target)
        return ref;
    // The addend as if against the section symbol, then where it points.
    int64_t rel = wrap_add(r.addend, label ? static_cast<int64_t>(s->value) : 0);
    int64_t off = wrap_add(rel, bias(where, r));
    if (target->is_string_table_like() && target->type != SHT_NOBITS) {
        ref.kind = Referent::Kind::String;
        ref.section = target;
        ref.offset = rel;
        ref.position = off;
        if (off >= 0 && static_cast<uint64_t>(off) < target->data.size()) {
            const char *p = reinterpret_cast<const char *>(target->data.data()) + off;
            size_t max = target->data.size() - static_cast<size_t>(off);
            ref.text = std::string_view(p, strnlen(p, max));
        }
        return ref;
    }
    if (const Symbol *cover = covering(*target, off)) {
        ref.kind = Referent::Kind::Symbol;
        ref.symbol = cover;
        // Keep the addend's form (bias included) so equal code compares equal.
        ref.offset = rel - static_cast<int64_t>(cover->value);
        ref.position = off - static_cast<int64_t>(cover->value);
        return ref;
    }
    ref.kind = Referent::Kind::Section;
    ref.section = target;
    ref.offset = rel;
    ref.position = off;
    return ref;
}

} // namespace kpatch::diff
