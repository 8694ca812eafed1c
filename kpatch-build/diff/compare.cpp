// Pass 4 (pipeline.cpp), compare: which functions changed, which are new, and which data changes a live patch cannot carry (licence: GPL-2.0-only).
//
// A function is compared with its twin as code bytes with every relocated field zeroed,
// then relocation by relocation by meaning (diff/referent.cpp): the same offset, type and
// referent, where referents are equal when they are twins, the same external name, or
// strings with the same text. Its special-section entries (bug table, exception table,
// jump labels, alternatives, ORC, ...) are compared the same way, so a change that only
// touches an alternative or a jump label's key still counts. Differences that are only
// moved line numbers are forgiven; see lines.cpp for the rule (line_calls.cpp without DWARF).
//
// Data is compared first, because a function that reads a read-only table whose content
// changed has changed too (it must use a new copy of the table). Writable data whose
// initial value or size changed is refused: the running kernel's copy holds live state
// (the messages say so for __read_mostly and __ro_after_init data, and what to do
// instead); so is existing data that moved into or out of those sections. Each refusal
// names the symbol it concerns, so a KPATCH_REVIEWED entry for it can waive it.
#include <algorithm>
#include <cstring>
#include <optional>
#include <elf.h>

#include "diff/passes.hpp"

namespace kpatch::diff {

Status Comparison::of(const Symbol *patched) const
{
    auto it = status.find(patched);
    return it == status.end() ? Status::Same : it->second;
}

namespace {

bool in_init_or_exit(const Section &s)
{
    return s.name.rfind(".init.", 0) == 0 || s.name.rfind(".exit.", 0) == 0;
}

bool writable(const Symbol &s) { return s.section && (s.section->flags & SHF_WRITE); }

// Dynamic-debug descriptors (__dyndbg since 5.x, __verbose before): per-call-site data that
// carries its pr_debug()'s line, and whose state (the flags `echo ... >control` set) is the
// running kernel's. They belong to the function using them (correlate.cpp pairs them through
// it); a moved line or a new format is never "changed data".
bool is_debug_descriptor(const Section &s) { return s.name == "__dyndbg" || s.name == "__verbose"; }

// A range of one section: a symbol's bytes or a special-section entry.
struct Span {
    const Section *section;
    uint64_t start, size;
};

class Comparer {
public:
    Comparer(const Correlation &c, CodeIndex &o, CodeIndex &p, LineTables &l, Comparison &r)
        : corr(c), code_o(o), code_p(p), lines(l), result(r) {}

    bool same_referent(const Referent &ro, const Referent &rp, bool check_data, const Section &so,
                       const Section &sp) const;
    bool same_text_but_lines(std::string_view a, std::string_view b, const Section &so,
                             const Section &sp) const;
    bool same_relocations(Span so, Span sp, bool check_data);
    // Bytes with relocated fields (and a line field) zeroed.
    std::vector<uint8_t> masked(Span s, std::pair<unsigned, unsigned> line = {0, 0}) const;
    bool same_code(const Symbol &o, const Symbol &p, bool &line_only);
    bool same_entries(const Symbol &o, const Symbol &p, const SpecialLayout &so,
                      const SpecialLayout &sp, bool &line_only);
    bool same_data(const Symbol &o, const Symbol &p);

private:
    const Correlation &corr;
    CodeIndex &code_o, &code_p;
    LineTables &lines;
    Comparison &result;
};

// Strings that embed __LINE__ ("... at net/core/dev.c:10296" from __stringify(__LINE__)) differ
// only in decimal numbers; each such pair must be a line shift of the function using them.
bool Comparer::same_text_but_lines(std::string_view a, std::string_view b, const Section &so,
                                   const Section &sp) const
{
    auto digit = [](char c) { return c >= '0' && c <= '9'; };
    size_t i = 0, j = 0;
    bool any = false;
    while (i < a.size() && j < b.size()) {
        if (!digit(a[i]) || !digit(b[j])) {
            if (a[i] != b[j])
                return false;
            i++, j++;
            continue;
        }
        size_t i0 = i, j0 = j;
        while (i < a.size() && digit(a[i])) i++;
        while (j < b.size() && digit(b[j])) j++;
        std::string_view na = a.substr(i0, i - i0), nb = b.substr(j0, j - j0);
        if (na == nb)
            continue;
        if (na.size() > 9 || nb.size() > 9)
            return false;
        if (!lines.is_line_shift(so, sp, std::stol(std::string(na)), std::stol(std::string(nb))))
            return false;
        any = true;
    }
    return any && i == a.size() && j == b.size();
}

bool Comparer::same_referent(const Referent &ro, const Referent &rp, bool check_data, const Section &so,
                             const Section &sp) const
{
    if (ro.kind != rp.kind)
        return false;
    switch (rp.kind) {
    case Referent::Kind::None:
        return true;
    case Referent::Kind::Symbol:
        if (ro.offset != rp.offset)
            return false;
        if (!rp.symbol->is_defined())
            return !ro.symbol->is_defined() && ro.symbol->name == rp.symbol->name;
        if (corr.twin(rp.symbol) != ro.symbol)
            return false;
        // A function that uses a read-only object whose content changed has changed.
        return !(check_data && rp.symbol->is_object() && !writable(*rp.symbol) &&
                 result.of(rp.symbol) == Status::Changed);
    case Referent::Kind::String:
        // Wrapping arithmetic: a malformed addend can be anything.
        if (static_cast<uint64_t>(ro.offset) - static_cast<uint64_t>(ro.position) !=
            static_cast<uint64_t>(rp.offset) - static_cast<uint64_t>(rp.position))
            return false;
        return ro.text == rp.text || (so.is_text() && same_text_but_lines(ro.text, rp.text, so, sp));
    case Referent::Kind::Section: {
        if (corr.twin(rp.section) != ro.section)
            return false;
        if (rp.section->type == SHT_NOBITS || (rp.section->flags & SHF_WRITE))
            return ro.offset == rp.offset;
        // Anonymous constants (.rodata.cst16 and the like) may move: the bytes must agree.
        uint64_t n = rp.section->entsize ? rp.section->entsize : 8;
        auto in = [n](const Section &s, int64_t pos) {
            return pos >= 0 && static_cast<uint64_t>(pos) + n <= s.data.size();
        };
        if (!in(*rp.section, rp.position) || !in(*ro.section, ro.position))
            return ro.section->data == rp.section->data;
        return std::memcmp(ro.section->data.data() + ro.position,
                           rp.section->data.data() + rp.position, n) == 0;
    }
    }
    return false;
}

// Relocations inside a span, sorted by offset.
std::vector<const Relocation *> relocations_in(Span s)
{
    std::vector<const Relocation *> out;
    if (!s.section->relocations)
        return out;
    for (auto &r : s.section->relocations->entries)
        if (r.offset >= s.start && r.offset < s.start + s.size)
            out.push_back(&r);
    std::stable_sort(out.begin(), out.end(),
                     [](const Relocation *a, const Relocation *b) { return a->offset < b->offset; });
    return out;
}

bool Comparer::same_relocations(Span so, Span sp, bool check_data)
{
    auto ro = relocations_in(so), rp = relocations_in(sp);
    if (ro.size() != rp.size())
        return false;
    for (size_t i = 0; i < ro.size(); i++) {
        if (ro[i]->offset - so.start != rp[i]->offset - sp.start || ro[i]->type != rp[i]->type)
            return false;
        if (!same_referent(code_o.resolve(*so.section, *ro[i]), code_p.resolve(*sp.section, *rp[i]),
                           check_data, *so.section, *sp.section))
            return false;
    }
    return true;
}

std::vector<uint8_t> Comparer::masked(Span s, std::pair<unsigned, unsigned> line) const
{
    std::vector<uint8_t> out;
    if (s.section->type == SHT_NOBITS || s.start + s.size > s.section->data.size())
        return out;
    out.assign(s.section->data.begin() + s.start, s.section->data.begin() + s.start + s.size);
    for (auto *r : relocations_in(s)) {
        uint64_t at = r->offset - s.start;
        unsigned w = code_p.arch().width(r->type);
        for (unsigned i = 0; i < w && at + i < out.size(); i++)
            out[at + i] = 0;
    }
    for (unsigned i = line.first; i < line.second && i < out.size(); i++)
        out[i] = 0;
    return out;
}

bool Comparer::same_code(const Symbol &o, const Symbol &p, bool &line_only)
{
    if (o.size != p.size)
        return false;
    Span so{o.section, o.value, o.size}, sp{p.section, p.value, p.size};
    auto bo = masked(so), bp = masked(sp);
    if (bo.size() != o.size || bp.size() != p.size)
        return false;   // a symbol reaching past its section (malformed input): never "same"
    if (bo != bp) {
        auto imms = code_p.arch().immediate_changes(bo.data(), bp.data(), bo.size());
        if (!imms)
            return false;
        for (auto &c : *imms)
            if (!is_moved_line(lines, code_p, o, p, bp, c))
                return false;
        line_only = true;
    }
    return same_relocations(so, sp, true);
}

// Whether the bytes of entry `e` from `from` on are zeros (padding).
bool zero_tail(const SpecialEntry &e, unsigned from)
{
    const auto &d = e.section->data;
    for (uint64_t i = e.offset + from; i < e.offset + e.size && i < d.size(); i++)
        if (d[i])
            return false;
    return true;
}

bool Comparer::same_entries(const Symbol &o, const Symbol &p, const SpecialLayout &lo,
                            const SpecialLayout &lp, bool &line_only)
{
    auto entries = [](const SpecialLayout &l, const Symbol &f) {
        std::vector<const SpecialEntry *> out;
        auto it = l.by_owner.find(f.section);
        if (it != l.by_owner.end())
            for (auto *e : it->second)
                // Records such as printk index entries describe what the code already
                // says (its format strings): they follow the function, never change it.
                if (e->owner_offset >= f.value && e->owner_offset < f.value + std::max<uint64_t>(f.size, 1) &&
                    !entries_point_at_records(e->section->name))
                    out.push_back(e);
        std::stable_sort(out.begin(), out.end(), [](const SpecialEntry *a, const SpecialEntry *b) {
            return a->section->name != b->section->name ? a->section->name < b->section->name
                                                        : a->owner_offset < b->owner_offset;
        });
        return out;
    };
    auto eo = entries(lo, o), ep = entries(lp, p);
    if (eo.size() != ep.size())
        return false;
    for (size_t i = 0; i < eo.size(); i++) {
        const SpecialEntry &a = *eo[i], &b = *ep[i];
        if (a.section->name != b.section->name || a.owner_offset - o.value != b.owner_offset - p.value)
            return false;
        auto line = code_p.arch().line_field(b.section->name);
        // An entry may be last, without its tail padding, on one side only: compare what
        // both hold; the other's padding must be zeros.
        unsigned n = std::min(a.size, b.size);
        if (!zero_tail(a, n) || !zero_tail(b, n))
            return false;
        Span sa{a.section, a.offset, n}, sb{b.section, b.offset, n};
        if (masked(sa, line) != masked(sb, line))
            return false;
        if (line.second > line.first && b.offset + line.second <= b.section->data.size()) {
            uint16_t la = 0, lb = 0;
            std::memcpy(&la, a.section->data.data() + a.offset + line.first, sizeof la);
            std::memcpy(&lb, b.section->data.data() + b.offset + line.first, sizeof lb);
            if (la != lb) {
                if (!is_moved_bug_line(lines, o, p, la, lb))
                    return false;
                line_only = true;
            }
        }
        if (!same_relocations(sa, sb, true))
            return false;
    }
    return true;
}

bool Comparer::same_data(const Symbol &o, const Symbol &p)
{
    if (o.size != p.size || o.section->type != p.section->type)
        return false;
    Span so{o.section, o.value, o.size}, sp{p.section, p.value, p.size};
    // Dynamic-debug descriptors carry the line of their pr_debug(): only what they point
    // to matters (a moved line is not a change of the descriptor).
    bool descriptor = is_debug_descriptor(*p.section);
    if (!descriptor && masked(so) != masked(sp))
        return false;
    return same_relocations(so, sp, false);
}

// Where writable data lives, as far as a patch could change it.
enum class DataClass { Plain, ReadMostly, RoAfterInit };

DataClass data_class(const Section &s)
{
    if (s.name.rfind(".data..ro_after_init", 0) == 0)
        return DataClass::RoAfterInit;
    if (s.name.rfind(".data..read_mostly", 0) == 0)
        return DataClass::ReadMostly;
    return DataClass::Plain;
}

const char *class_name(DataClass c)
{
    switch (c) {
    case DataClass::ReadMostly: return "__read_mostly";
    case DataClass::RoAfterInit: return "__ro_after_init";
    case DataClass::Plain: break;
    }
    return "ordinary data";
}

// Existing writable data whose initial value or size changed. The running kernel's copy
// holds live state (and its initial value is long gone), so the patch keeps using it: say
// what changed and how a patch does what the author meant.
Refusal data_refusal(const Symbol &o, const Symbol &p)
{
    std::string what = o.size != p.size
                           ? "changed its size (" + std::to_string(o.size) + " -> " + std::to_string(p.size) +
                                 " bytes)"
                           : "changed its initial value";
    const std::string where = "`" + p.name + "` (" + p.section->name + ") " + what;
    const std::string keep = "; a live patch cannot change existing data: the running kernel keeps its "
                             "current value and layout. To change the value, set it from a load hook "
                             "(KPATCH_POST_PATCH_HOOK, kpatch-patch.h); to add state, use a shadow "
                             "variable (kpatch-shadow.h) or new data of the patch";
    std::string text;
    switch (data_class(*p.section)) {
    case DataClass::RoAfterInit:
        text = "__ro_after_init variable " + where +
               "; it was set at boot and is read-only now, so a live patch can neither re-initialize "
               "nor write it. Keep it as it was and hold the new value in new data of the patch (a new "
               "variable, which lives in the patch module) that the patched functions read";
        break;
    case DataClass::ReadMostly:
        text = "__read_mostly variable " + where + keep;
        break;
    case DataClass::Plain:
        text = "data object " + where + keep;
        break;
    }
    return Refusal{std::move(text), {source_name(p.name)}};
}

// A new global variable another object of the patch may refer to: in an ordinary data
// section (not __init data, per-CPU data or a table of some special section).
bool is_shareable(const Symbol &p)
{
    if (p.bind != STB_GLOBAL || !p.section)
        return false;
    const std::string &n = p.section->name;
    if (n.starts_with(".data..percpu"))
        return false;
    return n.starts_with(".data") || n.starts_with(".bss") || n.starts_with(".rodata");
}

// A changed __init or __exit function: the running kernel freed its __init code after
// boot, and built-in code's __exit code was never kept. Waived by review, it is left out.
Refusal init_refusal(const Symbol &p)
{
    bool init = p.section->name.rfind(".init.", 0) == 0;
    std::string text =
        "function `" + p.name + "` in " + p.section->name + " changed; " +
        (init ? "__init code ran at boot and has been freed, so a live patch cannot change it. If the "
                "running system needs what the new code does, do it once in a post-patch hook "
                "(KPATCH_POST_PATCH_HOOK, kpatch-patch.h)"
              : "__exit code of built-in code is discarded at link time, so a live patch cannot change "
                "it (and it never runs)") +
        "; if the change only matters at the next boot, KPATCH_REVIEWED(" + p.name +
        ", \"why\") leaves it out of the patch";
    return Refusal{std::move(text), {source_name(p.name)}, &p};
}

// Replacing a function redirects its address, so every kernel name at that address. When
// the original has another name there that the patched object no longer gives this
// function, callers by that name would run the new code against the patch's meaning.
std::optional<Refusal> split_alias(const Symbol &p, const Correlation &corr, CodeIndex &code_o,
                                   const Aliases &aliases)
{
    const Symbol *o = corr.twin(&p);
    if (!o || !o->section)
        return std::nullopt;
    for (auto *q : code_o.symbols_in(*o->section)) {
        if (q == o || !q->is_function() || q->value != o->value || is_cold_part(q->name))
            continue;
        auto it = corr.patched_of.find(q);
        if (it != corr.patched_of.end() && aliases.canonical(it->second) == &p)
            continue;
        return Refusal{"function `" + p.name + "` changed, but in the kernel it is one function with `" +
                           q->name + "` (two names at one address, as __alias makes them) and the patched "
                           "object makes them two: replacing `" + o->name + "` would replace `" + q->name +
                           "` as well. Keep `" + q->name + "` an alias of `" + p.name +
                           "`, or leave `" + p.name + "` unchanged",
                       {}};
    }
    return std::nullopt;
}

// The steps of compare(), in their order: each adds to the Comparison being built, which
// compare() returns once they are all done.
class ComparePass {
public:
    ComparePass(const Correlation &c, CodeIndex &o, CodeIndex &p, const SpecialLayout &so,
                const SpecialLayout &sp, LineTables &lines, const Markers &m)
        : corr(c), code_o(o), code_p(p), special_o(so), special_p(sp), markers(m),
          patched(p.object()), cmp(c, o, p, lines, result) {}

    Comparison result;

    void data();
    void data_placement();
    void functions();
    void cold_parents();
    void second_names();
    void changed_functions();

private:
    // Whether `f`, a second name, is its canonical name's function in the kernel too.
    bool joined(const Symbol &f) const
    {
        const Aliases &aliases = result.aliases;
        const Symbol *c = aliases.canonical(&f), *of = corr.twin(&f), *oc = corr.twin(c);
        return c != &f && of && oc && of->section == oc->section && of->value == oc->value;
    }
    // Whether an ignore marker names `f` under any of its names.
    bool covered(const Symbol &f) const
    {
        return result.aliases.any_name(f, [&](const Symbol &n) { return markers.covers(n); });
    }

    const Correlation &corr;
    CodeIndex &code_o, &code_p;
    const SpecialLayout &special_o, &special_p;
    const Markers &markers;
    const Object &patched;
    Comparer cmp;
};

// Existing data: the same, changed (writable data refused), or new.
void ComparePass::data()
{
    for (auto &sp : patched.symbols) {
        const Symbol &p = *sp;
        if (!p.is_defined() || !p.is_object())
            continue;
        const Symbol *o = corr.twin(&p);
        if (!o) {
            result.status[&p] = Status::New;
            if (is_shareable(p))
                result.new_globals.push_back(&p);
            continue;
        }
        if (in_init_or_exit(*p.section) || cmp.same_data(*o, p)) {
            result.status[&p] = Status::Same;
            continue;
        }
        if (markers.covers(p)) {
            result.status[&p] = Status::Same;
            result.ignored.push_back(p.name);
            continue;
        }
        result.status[&p] = Status::Changed;
        if (writable(p) && !is_debug_descriptor(*p.section))
            result.refusals.push_back(data_refusal(*o, p));
    }
}

// Existing data that moved into or out of __read_mostly or __ro_after_init: same bytes,
// but a promise (read-only after boot, cache placement) the running copy cannot take.
void ComparePass::data_placement()
{
    for (auto &sp : patched.symbols) {
        const Symbol &p = *sp;
        const Symbol *o = p.is_defined() && p.is_object() ? corr.twin(&p) : nullptr;
        if (!o || !o->section || in_init_or_exit(*p.section) || result.of(&p) == Status::Changed)
            continue;
        DataClass co = data_class(*o->section), cp = data_class(*p.section);
        if (co == cp || (co == DataClass::Plain && cp == DataClass::Plain))
            continue;
        result.status[&p] = Status::Changed;
        result.refusals.push_back(Refusal{
            "variable `" + p.name + "` moved from " + o->section->name + " (" + class_name(co) + ") to " +
                p.section->name + " (" + class_name(cp) + "); a live patch cannot change how existing data "
                "is placed or protected: the running kernel keeps it where it is. Leave the annotation as "
                "it was",
            {source_name(p.name)}});
    }
}

// Each function against its twin. A function with several names is judged once, under
// its canonical name (aliases.cpp); an ignore marker for any of its names covers it.
void ComparePass::functions()
{
    result.aliases = Aliases(patched, corr);
    for (auto &sp : patched.symbols) {
        const Symbol &p = *sp;
        if (!p.is_defined() || !p.is_function())
            continue;
        const Symbol *o = corr.twin(&p);
        if (!o) {
            if (!in_init_or_exit(*p.section)) {
                result.status[&p] = Status::New;
                result.new_functions.push_back(&p);
            }
            continue;
        }
        if (joined(p))
            continue;   // takes its canonical name's status (second_names)
        bool line_only = false;
        bool same = cmp.same_code(*o, p, line_only) &&
                    cmp.same_entries(*o, p, special_o, special_p, line_only);
        if (!same && covered(p)) {
            result.ignored.push_back(p.name);
            same = true;
        }
        result.status[&p] = same ? Status::Same : Status::Changed;
        if (same && line_only)
            result.line_shift_only.push_back(p.name);
    }
}

// A changed .cold part changes its parent: they are one function split in two, and
// only the parent can be redirected (the part is reached by a jump from it).
void ComparePass::cold_parents()
{
    const Aliases &aliases = result.aliases;
    for (auto &sp : patched.symbols) {
        const Symbol &p = *sp;
        if (!p.is_function() || result.of(&p) != Status::Changed)
            continue;
        std::string parent = cold_parent(p.name);
        if (parent.empty())
            continue;
        const Symbol *ps = patched.find_symbol(parent);
        if (ps)
            ps = aliases.canonical(ps);
        if (ps && ps->is_function() && result.of(ps) == Status::Same && !covered(*ps))
            result.status[ps] = Status::Changed;
    }
}

// A second name that is its canonical name's function in the kernel too takes its status.
void ComparePass::second_names()
{
    const Aliases &aliases = result.aliases;
    for (auto &sp : patched.symbols) {
        const Symbol &p = *sp;
        if (p.is_function() && joined(p))
            result.status[&p] = result.of(aliases.canonical(&p));
    }
}

// The changed functions, and what refuses them: __init/__exit code, a section shared with
// other functions, a kernel alias the patched object splits off.
void ComparePass::changed_functions()
{
    const Aliases &aliases = result.aliases;
    for (auto &sp : patched.symbols) {
        const Symbol &p = *sp;
        if (!p.is_function() || result.of(&p) != Status::Changed || is_cold_part(p.name) || joined(p))
            continue;
        if (!p.section) {
            // A function symbol outside any section (SHN_ABS, a bad index): nothing to
            // patch or keep. Found by the fuzzer; kernel objects never have one.
            result.refusals.push_back({"function `" + p.name + "` changed but is not in a section", {}});
            continue;
        }
        result.changed_functions.push_back(&p);
        if (in_init_or_exit(*p.section)) {
            result.refusals.push_back(init_refusal(p));
            continue;
        }
        size_t functions = 0;
        for (auto *s : code_p.symbols_in(*p.section))
            functions += s->is_function() && !is_cold_part(s->name) && !aliases.is_second_name(s);
        if (functions != 1 || p.section->name == ".text")
            result.refusals.push_back({"function `" + p.name + "` changed but shares section " +
                                       p.section->name +
                                       " with other functions (build with -ffunction-sections)",
                                       {}});
        if (auto split = split_alias(p, corr, code_o, aliases))
            result.refusals.push_back(std::move(*split));
    }
}

} // namespace

Comparison compare(const Correlation &corr, CodeIndex &code_o, CodeIndex &code_p,
                   const SpecialLayout &special_o, const SpecialLayout &special_p,
                   LineTables &lines, const Markers &markers)
{
    ComparePass pass(corr, code_o, code_p, special_o, special_p, lines, markers);
    pass.data();
    pass.data_placement();
    pass.functions();
    pass.cold_parents();
    pass.second_names();
    pass.changed_functions();
    return std::move(pass.result);
}

} // namespace kpatch::diff
