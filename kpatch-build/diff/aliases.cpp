// One function under several names: symbols of the same section, address and size (licence: GPL-2.0-only).
//
// `__alias(foo)` and older kernels' SYSCALL_DEFINE (SyS_name with its alias sys_name) give
// one function a second symbol. Both name the same bytes, so the function is changed or
// unchanged once, copied once, and replaced once: the patch's .kpatch.funcs entry names
// one of them (the core finds the address by that name; the other name is at the same
// address, so it is redirected too). Every name stays defined in the output, so copied
// code that calls the function by any of its names reaches the new code.
//
// The name an entry uses (the canonical one), in this order:
//   1. one the original object has too (the kernel knows it);
//   2. global before weak before local: a global name is unique in the kernel, so no
//      position among same-named symbols is needed to find it;
//   3. the first in the object's symbol table (for `__alias` and SYSCALL_DEFINE, the
//      name the function was defined under: the assembler lists it before its alias).
#include <algorithm>
#include <elf.h>
#include <map>
#include <tuple>

#include "diff/passes.hpp"

namespace kpatch::diff {
namespace {

int binding_rank(const Symbol &s)
{
    switch (s.bind) {
    case STB_GLOBAL: return 0;
    case STB_WEAK: return 1;
    default: return 2;
    }
}

} // namespace

Aliases::Aliases(const Object &patched, const Correlation &corr)
{
    std::map<std::tuple<const Section *, uint64_t, uint64_t>, std::vector<const Symbol *>> at;
    for (auto &s : patched.symbols)
        if (s->is_function() && s->is_defined() && s->section && !is_cold_part(s->name))
            at[{s->section, s->value, s->size}].push_back(s.get());
    for (auto &[where, list] : at) {
        if (list.size() < 2)
            continue;
        std::stable_sort(list.begin(), list.end(), [&](const Symbol *a, const Symbol *b) {
            bool ka = corr.twin(a) != nullptr, kb = corr.twin(b) != nullptr;
            if (ka != kb)
                return ka;
            if (binding_rank(*a) != binding_rank(*b))
                return binding_rank(*a) < binding_rank(*b);
            return a->original_index < b->original_index;
        });
        auto group = std::make_shared<const std::vector<const Symbol *>>(std::move(list));
        for (auto *s : *group)
            group_of_[s] = group;
    }
}

const Symbol *Aliases::canonical(const Symbol *f) const
{
    auto it = group_of_.find(f);
    return it == group_of_.end() ? f : it->second->front();
}

const std::vector<const Symbol *> &Aliases::names(const Symbol *f) const
{
    static const std::vector<const Symbol *> none;
    auto it = group_of_.find(f);
    return it == group_of_.end() ? none : *it->second;
}

} // namespace kpatch::diff
