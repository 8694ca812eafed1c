// Pass 5 (pipeline.cpp), include, its first step: the read-only constants a patch carries its own copy of instead of using the kernel's (licence: GPL-2.0-only).
//
// Copied code must find the data it uses. Data whose contents the patch did not change
// is normally the kernel's own copy, reached through a klp relocation by name and
// position. For local read-only constants that is both needless and fragile: the 6.1
// kernel has 405 symbols named `__func__.0` (every WARN and fortify check has one) and
// their neighbours in kallsyms often cannot tell which one an object owns. A constant
// that no one writes has no state to share, so a copy serves as well as the original.
//
// The rule: a symbol the output would otherwise take from the kernel gets its own copy
// when it is
//   1. a local (STB_LOCAL) data object (STT_OBJECT) in an allocated, read-only, non-code
//      `.rodata*` section: nothing can write it, so the copy never goes stale
//      (`__func__.N`, `static const` arrays and strings, const static locals);
//   2. in a section without relocations: its bytes are its whole value. A constant that
//      holds addresses (an ops table, `static const struct file_operations`) is what
//      kernel code registers and later compares by address (`f->f_op == &foo_fops`),
//      so it stays the kernel's;
//   3. not referred to by any allocated data section of either object: an address
//      stored in static data (`.name = kname` in a struct, a table of names) is one the
//      kernel may keep and compare, so the constant stays the kernel's. Special
//      sections do not count (their entries travel with the function that owns them),
//      and neither does storage of a function-name string (`__func__.N`): the C name
//      exists only to be printed, and what stores it (dynamic-debug descriptors,
//      printk index records, tracepoint and once-site data) matches it by text.
// Everything else (writable data, static locals with state, tables of addresses) is the
// running kernel's copy. Limit (kpatch(7)): the rule cannot see code that passes a
// constant's address to a function that keeps it beyond the patch module's life
// (request_irq's and class_create's name): unloading the patch then leaves a dangling pointer, the
// same as for the string literals a patch has always carried.
#include <elf.h>

#include "diff/passes.hpp"

namespace kpatch::diff {
namespace {

bool constant_shape(const Symbol &x)
{
    const Section *s = x.section;
    if (!s || !x.is_defined() || !x.is_object() || !x.is_local())
        return false;
    if (s->type != SHT_PROGBITS || !(s->flags & SHF_ALLOC) || (s->flags & (SHF_WRITE | SHF_EXECINSTR)))
        return false;
    if (s->name != ".rodata" && s->name.rfind(".rodata.", 0) != 0)
        return false;
    return !s->relocations || s->relocations->entries.empty();
}

// Sections of `object` whose address some allocated, non-special data section stores.
std::unordered_set<const Section *> stored_addresses(const CodeIndex &code)
{
    std::unordered_set<const Section *> stored;
    for (auto &sp : code.object().sections) {
        const Section &s = *sp;
        if (!(s.flags & SHF_ALLOC) || s.is_text() || !s.relocations || is_special_section(code.arch(), s.name))
            continue;
        for (auto &r : s.relocations->entries)
            if (r.symbol && r.symbol->section)
                stored.insert(r.symbol->section);
    }
    return stored;
}

// The compiler's names for a function's own name (`__func__.3`, `__PRETTY_FUNCTION__.1`).
bool function_name_string(const Symbol &x)
{
    std::string base = base_name(x.name);
    return base == "__func__" || base == "__FUNCTION__" || base == "__PRETTY_FUNCTION__";
}

} // namespace

PrivateConstants private_constants(const Correlation &corr, const CodeIndex &orig, const CodeIndex &patched)
{
    PrivateConstants out;
    std::unordered_set<const Section *> stored_o = stored_addresses(orig),
                                        stored_p = stored_addresses(patched);
    for (auto &sp : patched.object().symbols) {
        const Symbol &x = *sp;
        if (!constant_shape(x))
            continue;
        if (!function_name_string(x)) {
            if (stored_p.count(x.section))
                continue;
            // The kernel's unchanged code is the original's: what it stores counts as well.
            const Symbol *old = corr.twin(&x);
            if (old && old->section && stored_o.count(old->section))
                continue;
        }
        out.symbols.insert(&x);
    }
    return out;
}

} // namespace kpatch::diff
