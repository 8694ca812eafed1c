// Pass 2 (pipeline.cpp), correlate: pairs each symbol and section of the patched object with its twin in the original (licence: GPL-2.0-only).
//
// Names are matched without the parts compilers number per build: `foo.constprop.0` and
// `foo.constprop.1` are the same function, `count.3` and `count.5` may be the same static
// local. A name that stays ambiguous (several `count.N`, one per function; every
// `__func__.N`; each `__already_done.N` of .data.once) is paired through the functions
// that use it: the static local of function f pairs with the static local of f's twin, in
// order of appearance when f has several (what they point at decides first: a
// descriptor's format). Users that are new functions do not count when old users remain:
// a new helper naming f's static local got it from f. Sections pair through their symbols first (their
// names carry the same renumbered suffixes), then by unique name.
#include <algorithm>
#include <cctype>
#include <elf.h>

#include "diff/passes.hpp"

namespace kpatch::diff {

const Symbol *Correlation::twin(const Symbol *patched) const
{
    auto it = orig_of.find(patched);
    return it == orig_of.end() ? nullptr : it->second;
}

const Section *Correlation::twin(const Section *patched) const
{
    auto it = orig_section_of.find(patched);
    return it == orig_section_of.end() ? nullptr : it->second;
}

void Correlation::pair(const Symbol *patched, const Symbol *orig)
{
    orig_of[patched] = orig;
    patched_of[orig] = patched;
}

std::string base_name(std::string_view name)
{
    // __UNIQUE_ID_<prefix><N> (dynamic-debug descriptors, once flags, ...): N is the
    // unit's __COUNTER__, which every such macro above renumbers.
    constexpr std::string_view unique = "__UNIQUE_ID_";
    if (name.starts_with(unique)) {
        size_t end = name.find('.');
        std::string_view head = name.substr(0, end);
        size_t digits = head.size();
        while (digits > unique.size() && std::isdigit(static_cast<unsigned char>(head[digits - 1])))
            digits--;
        if (digits < head.size())
            return base_name(std::string(head.substr(0, digits)) + std::string(name.substr(head.size())));
    }
    std::string out;
    size_t start = 0;
    bool first = true;
    while (start <= name.size()) {
        size_t dot = name.find('.', first ? 1 : start);  // a leading dot is part of the name
        std::string_view part = name.substr(start, dot == std::string_view::npos ? dot : dot - start);
        bool numeric = !first && !part.empty() &&
                       std::all_of(part.begin(), part.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
        if (!numeric) {
            if (!first)
                out += '.';
            out += part;
        }
        first = false;
        if (dot == std::string_view::npos)
            break;
        start = dot + 1;
    }
    return out;
}

std::string cold_parent(std::string_view name)
{
    size_t at = name.rfind(".cold");
    if (at == std::string_view::npos || at == 0)
        return {};
    std::string_view rest = name.substr(at + 5);
    bool numbered = rest.size() > 1 && rest[0] == '.' &&
                    std::all_of(rest.begin() + 1, rest.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
    return rest.empty() || numbered ? std::string(name.substr(0, at)) : std::string();
}

const Symbol *cold_part_of(const Object &object, const Symbol &f)
{
    for (auto &s : object.symbols) {
        if (!s->is_function() || !s->is_defined())
            continue;
        std::string parent = cold_parent(s->name);
        if (parent.empty())
            continue;
        if (parent == f.name)
            return s.get();
        // Named after another name of f (an alias at f's address: GCC names the part
        // after the function it compiled, which need not be the name f is patched under).
        const Symbol *p = f.section ? object.find_symbol(parent) : nullptr;
        if (p && p->is_function() && p->section == f.section && p->value == f.value)
            return s.get();
    }
    return nullptr;
}

namespace {

enum class Kind { Function, Data, Other };

Kind kind_of(const Symbol &s)
{
    if (s.is_function()) return Kind::Function;
    if (s.is_object()) return Kind::Data;
    return Kind::Other;
}

bool correlatable(const Symbol &s)
{
    return s.is_defined() && !s.is_section_symbol() && s.type != STT_FILE && !s.name.empty() &&
           !(s.is_local() && s.type == STT_NOTYPE);   // assembler labels are places, not names
}

// For each symbol, the functions whose code refers to it (directly or by section + offset
// for the sections that hold one symbol or whose symbols start at the referred offset).
std::unordered_map<const Symbol *, std::vector<const Symbol *>> users_of(CodeIndex &idx)
{
    const Object &obj = idx.object();
    std::unordered_map<const Symbol *, std::vector<const Symbol *>> users;
    for (auto &sec : obj.sections) {
        if (!sec->is_text() || !sec->relocations)
            continue;
        const Symbol *fn = idx.function_of(*sec);
        if (!fn)
            continue;
        for (auto &r : sec->relocations->entries) {
            if (!r.symbol)
                continue;
            Referent ref = idx.resolve(*sec, r);
            if (ref.kind != Referent::Kind::Symbol)
                continue;
            const Symbol *target = ref.symbol;
            auto &v = users[target];
            if (std::find(v.begin(), v.end(), fn) == v.end())
                v.push_back(fn);
        }
    }
    return users;
}

// What a data symbol refers to, by meaning: the strings and names its relocations point at
// (a dynamic-debug descriptor: its format, function and file). Numbers that move with the
// source (a descriptor's line) are not in it. "" when it refers to nothing.
std::string content_key(CodeIndex &idx, const Symbol &s)
{
    std::string key;
    if (!s.is_object() || !s.section || !s.section->relocations)
        return key;
    for (auto &r : s.section->relocations->entries) {
        if (r.offset < s.value || r.offset >= s.value + s.size)
            continue;
        Referent ref = idx.resolve(*s.section, r);
        key += std::to_string(r.offset - s.value) + "=";
        if (ref.kind == Referent::Kind::String) {
            key += ref.text;
        } else if (ref.kind == Referent::Kind::Symbol) {
            const Symbol &t = *ref.symbol;
            const Section *ts = t.section;
            bool constant = t.is_object() && ts && ts->type != SHT_NOBITS && !(ts->flags & SHF_WRITE) &&
                            t.value + t.size <= ts->data.size();
            // A constant (`__func__.N`) by its bytes: its number is renumbered like the rest.
            key += constant ? std::string(ts->data.begin() + t.value, ts->data.begin() + t.value + t.size)
                            : base_name(t.name);
        }
        key += '\n';
    }
    return key;
}

// Whether two data symbols hold the same bytes.
bool same_content(const Symbol &o, const Symbol &p)
{
    return o.size == p.size && o.section && p.section && o.section->type != SHT_NOBITS &&
           p.section->type != SHT_NOBITS && o.value + o.size <= o.section->data.size() &&
           p.value + p.size <= p.section->data.size() &&
           std::equal(o.section->data.begin() + o.value, o.section->data.begin() + o.value + o.size,
                      p.section->data.begin() + p.value);
}

struct Group {
    std::vector<const Symbol *> orig, patched;
};

// Pairs an ambiguous group through the functions that use its members.
void pair_by_users(Group &g, Correlation &c, CodeIndex &io, CodeIndex &ip,
                   std::unordered_map<const Symbol *, std::vector<const Symbol *>> &uo,
                   std::unordered_map<const Symbol *, std::vector<const Symbol *>> &up)
{
    auto signature = [](const std::vector<const Symbol *> &users, auto &&map_user) {
        std::vector<std::string> names;
        for (auto *u : users)
            names.push_back(map_user(u));
        std::sort(names.begin(), names.end());
        std::string sig;
        for (auto &n : names)
            sig += n + "|";
        return sig;
    };
    // Original users are named as they are; patched users by their twin's name, so
    // that only really corresponding users match.
    std::unordered_map<std::string, std::vector<const Symbol *>> orig_by_sig;
    for (auto *o : g.orig)
        orig_by_sig[signature(uo[o], [](const Symbol *u) { return u->name; })].push_back(o);
    auto patched_sig = [&](const Symbol *p) {
        return signature(up[p], [&](const Symbol *u) {
            const Symbol *t = c.twin(u);
            return t ? t->name : std::string("<new>") + u->name;
        });
    };
    // First what says the same thing: a function with two pr_debug()s where it had one
    // keeps the descriptor of the one it had, whatever the order of the symbol table.
    std::unordered_set<const Symbol *> done;
    std::unordered_map<const Symbol *, std::string> orig_keys;   // each read once: a big __dyndbg has thousands of relocations
    auto orig_key = [&](const Symbol *o) -> const std::string & {
        auto it = orig_keys.find(o);
        return it != orig_keys.end() ? it->second : orig_keys.emplace(o, content_key(io, *o)).first->second;
    };
    for (auto *p : g.patched) {
        std::string sig = patched_sig(p);
        auto it = orig_by_sig.find(sig);
        if (sig.empty() || it == orig_by_sig.end())
            continue;
        std::string key = content_key(ip, *p);
        if (key.empty())
            continue;
        auto &cands = it->second;
        auto same = [&](const Symbol *o) { return orig_key(o) == key; };
        if (std::count_if(cands.begin(), cands.end(), same) != 1)
            continue;
        auto pick = std::find_if(cands.begin(), cands.end(), same);
        c.pair(p, *pick);
        cands.erase(pick);
        done.insert(p);
    }
    for (auto *p : g.patched) {
        if (done.count(p))
            continue;
        std::string sig = patched_sig(p);
        auto it = orig_by_sig.find(sig);
        if (it == orig_by_sig.end() || it->second.empty()) {
            // A static local has one function; a new function that names it got its
            // address from there (a helper GCC specialised for its one caller:
            // helper.constprop.0 names the caller's `total`). Judged by its old users, it
            // is still theirs, and their running copy is the one to keep.
            std::vector<const Symbol *> old_users;
            for (auto *u : up[p])
                if (c.twin(u))
                    old_users.push_back(u);
            if (old_users.empty() || old_users.size() == up[p].size())
                continue;
            sig = signature(old_users, [&](const Symbol *u) { return c.twin(u)->name; });
            it = orig_by_sig.find(sig);
        }
        if (it == orig_by_sig.end() || it->second.empty() || sig.empty())
            continue;
        // Several candidates with the same users (two __func__ of helpers inlined into one
        // function): the same bytes decide (a __func__ holds its function's name), then the
        // same name, then the order of appearance.
        auto &cands = it->second;
        auto pick = cands.begin();
        auto same_bytes = [&](const Symbol *o) { return same_content(*o, *p); };
        if (cands.size() > 1) {
            auto by_bytes = std::find_if(cands.begin(), cands.end(), same_bytes);
            auto by_name = std::find_if(cands.begin(), cands.end(), [&](const Symbol *o) { return o->name == p->name; });
            if (by_bytes != cands.end() && std::count_if(cands.begin(), cands.end(), same_bytes) == 1)
                pick = by_bytes;
            else if (by_name != cands.end())
                pick = by_name;
        }
        c.pair(p, *pick);
        cands.erase(pick);
    }
    // Constants no code names (the `__func__.N` a dynamic-debug descriptor points at):
    // the one old constant left with the same bytes.
    for (auto *p : g.patched) {
        if (c.twin(p) || !p->section || (p->section->flags & SHF_WRITE))
            continue;
        const Symbol *match = nullptr;
        int n = 0;
        for (auto *o : g.orig)
            if (!c.patched_of.count(o) && same_content(*o, *p))
                match = o, n++;
        if (n == 1)
            c.pair(p, match);
    }
}

} // namespace

Correlation correlate(CodeIndex &orig_index, CodeIndex &patched_index)
{
    const Object &orig = orig_index.object(), &patched = patched_index.object();
    Correlation c;
    std::map<std::pair<std::string, Kind>, Group> groups;
    for (auto &s : orig.symbols)
        if (correlatable(*s))
            groups[{base_name(s->name), kind_of(*s)}].orig.push_back(s.get());
    for (auto &s : patched.symbols)
        if (correlatable(*s))
            groups[{base_name(s->name), kind_of(*s)}].patched.push_back(s.get());

    // Unique keys first (functions before data so that users are known for the second round).
    std::vector<Group *> ambiguous;
    for (auto &[key, g] : groups) {
        if (g.orig.empty() || g.patched.empty())
            continue;
        if (g.orig.size() == 1 && g.patched.size() == 1) {
            c.pair(g.patched[0], g.orig[0]);
            continue;
        }
        // Global names are unique within an object: pair exact names.
        bool all_global = true;
        for (auto *p : g.patched)
            all_global &= !p->is_local();
        if (all_global) {
            for (auto *p : g.patched)
                for (auto *o : g.orig)
                    if (o->name == p->name)
                        c.pair(p, o);
            continue;
        }
        ambiguous.push_back(&g);
    }
    if (!ambiguous.empty()) {
        auto uo = users_of(orig_index), up = users_of(patched_index);
        // Functions first: static locals are paired through them.
        std::stable_sort(ambiguous.begin(), ambiguous.end(), [](Group *a, Group *b) {
            return a->patched[0]->is_function() && !b->patched[0]->is_function();
        });
        for (auto *g : ambiguous)
            pair_by_users(*g, c, orig_index, patched_index, uo, up);
    }

    // Sections: through symbols, then by unique name. Symbols are taken in the patched
    // object's symbol-table order (never by iterating the pointer-keyed maps, whose order
    // follows heap addresses): when a section's symbols have twins in different sections,
    // the first symbol decides, the same on every run.
    for (auto &sp : patched.symbols) {
        const Symbol *p = sp.get(), *o = c.twin(p);
        if (o && p->section && o->section && !c.orig_section_of.count(p->section))
            c.orig_section_of[p->section] = o->section;
    }
    std::unordered_map<std::string, int> orig_names;
    std::unordered_map<std::string, const Section *> orig_by_name;
    for (auto &s : orig.sections) {
        orig_names[s->name]++;
        orig_by_name[s->name] = s.get();
    }
    std::unordered_set<const Section *> taken;
    for (auto &[p, o] : c.orig_section_of)
        taken.insert(o);
    for (auto &s : patched.sections) {
        if (c.orig_section_of.count(s.get()) || s->type == SHT_RELA)
            continue;
        auto it = orig_by_name.find(s->name);
        if (it != orig_by_name.end() && orig_names[s->name] == 1 && !taken.count(it->second))
            c.orig_section_of[s.get()] = it->second;
    }
    return c;
}

} // namespace kpatch::diff
