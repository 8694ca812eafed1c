// Pass 4 (pipeline.cpp), compare, types whose layout changed under the code a patch replaces, read from DWARF (licence: GPL-2.0-only).
//
// A replaced function runs against objects that the running kernel made with the old
// definitions of its types. If a struct, union, enum or typedef that the new code works
// with has another layout in the patched build (size, member offsets, member types,
// enumerator values), the new code would misread live objects: refused, naming the type,
// what changed in it and the functions that use it.
//
// WHAT "USES" MEANS (the closure). A changed function uses every type reachable from:
//   - its DWARF subprogram: return type, parameters, local variables, the types defined
//     inside it, and the same of every subprogram inlined into it (the abstract origins of
//     its inlined subroutines, whose parameters and locals the compiler may have dropped
//     from the concrete tree but the source still mentions);
//   - the globals it accesses: each data symbol its code (and its .cold part) relocates
//     against, through that variable's DWARF type;
// and, from each of those types, everything reachable through typedefs, qualifiers,
// pointers, arrays, struct and union members and function-pointer signatures. Following
// pointers is deliberate: the new code dereferences `p->q->r` through whatever layouts
// its build has, and the objects behind the pointers are the kernel's. The types of
// callees' parameters are not followed (a callee that is not replaced keeps its own
// build's view; one that is replaced is checked itself). Data the patch keeps needs no
// roots of its own: it is either new (made for the new code, see below) or read-only data
// whose change made every function that reads it a changed function, which reaches it as
// an accessed global.
//
// What is compared: only types with a name the other build can be asked about (struct,
// union and enum tags, typedef names) that are defined at the top level of a compilation
// unit. Anonymous members are compared as part of the type holding them. Types defined
// inside a function are not compared: only that function (and what it calls with them)
// can make objects of them, and it is replaced as a whole. A type that is new in the
// patched build has no old objects. A type whose layout changed but that no changed
// function reaches is fine: the running kernel's code keeps the old view of its own
// objects, and new functions (and new data) of the patch that use it create, use and free
// objects of the new layout themselves, which is why only changed functions are roots here.
//
// COST. This runs only when some function changed. Walk 1 takes the union of the changed
// functions' closures once and compares each named type in it with the original's
// definition; the original's types are indexed by name on the first lookup (one walk over
// the top level of its units). Only when a type did change does walk 2 go over each changed
// function's closure on its own, to name the functions that use it.
#include <dwarf.h>
#include <elfutils/libdw.h>

#include <algorithm>
#include <map>
#include <set>

#include "diff/dwarf_unit.hpp"
#include "diff/passes.hpp"

namespace kpatch::diff {
namespace {

std::string name_of(Dwarf_Die *d)
{
    const char *n = dwarf_diename(d);
    return n ? n : "";
}

bool type_of(Dwarf_Die *d, Dwarf_Die *out)
{
    Dwarf_Attribute a;
    return dwarf_attr_integrate(d, DW_AT_type, &a) && dwarf_formref_die(&a, out);
}

bool ref_of(Dwarf_Die *d, unsigned attr, Dwarf_Die *out)
{
    Dwarf_Attribute a;
    return dwarf_attr(d, attr, &a) && dwarf_formref_die(&a, out);
}

bool is_aggregate(int tag)
{
    return tag == DW_TAG_structure_type || tag == DW_TAG_union_type || tag == DW_TAG_enumeration_type;
}

bool is_type(int tag)
{
    switch (tag) {
    case DW_TAG_structure_type: case DW_TAG_union_type: case DW_TAG_enumeration_type:
    case DW_TAG_typedef: case DW_TAG_pointer_type: case DW_TAG_const_type:
    case DW_TAG_volatile_type: case DW_TAG_restrict_type: case DW_TAG_atomic_type:
    case DW_TAG_array_type: case DW_TAG_subroutine_type: case DW_TAG_base_type:
        return true;
    default:
        return false;
    }
}

// "struct foo", "union bar", "enum baz", "typedef t"; "" for what is not compared
// (anonymous types, declarations, everything else).
std::string key_of(Dwarf_Die *d)
{
    const char *word = nullptr;
    switch (dwarf_tag(d)) {
    case DW_TAG_structure_type: word = "struct"; break;
    case DW_TAG_union_type: word = "union"; break;
    case DW_TAG_enumeration_type: word = "enum"; break;
    case DW_TAG_typedef: word = "typedef"; break;
    default: return "";
    }
    std::string name = name_of(d);
    if (name.empty() || dwarf_hasattr(d, DW_AT_declaration))
        return "";
    return std::string(word) + " " + name;
}

// How a member's type reads in C, enough to tell two apart ("struct foo *", "u8[16]").
std::string describe(Dwarf_Die *t, int depth = 0)
{
    if (depth > 12)
        return "...";
    Dwarf_Die next;
    bool has_next = type_of(t, &next);
    auto inner = [&](const char *none) { return has_next ? describe(&next, depth + 1) : std::string(none); };
    switch (dwarf_tag(t)) {
    case DW_TAG_base_type:
    case DW_TAG_unspecified_type:
    case DW_TAG_typedef:
        return name_of(t);
    case DW_TAG_structure_type:
    case DW_TAG_union_type:
    case DW_TAG_enumeration_type: {
        std::string k = key_of(t);
        if (!k.empty())
            return k;
        std::string word = dwarf_tag(t) == DW_TAG_structure_type ? "struct"
                           : dwarf_tag(t) == DW_TAG_union_type ? "union" : "enum";
        std::string name = name_of(t);
        return name.empty() ? "anonymous " + word + " of " + std::to_string(dwarf_bytesize(t)) + " bytes"
                            : word + " " + name;
    }
    case DW_TAG_pointer_type: return inner("void") + " *";
    case DW_TAG_const_type: return "const " + inner("void");
    case DW_TAG_volatile_type: return "volatile " + inner("void");
    case DW_TAG_atomic_type: return "_Atomic " + inner("void");
    case DW_TAG_restrict_type: return inner("void");
    case DW_TAG_array_type: {
        std::string dims;
        Dwarf_Die c;
        if (dwarf_child(t, &c) == 0)
            do {
                if (dwarf_tag(&c) != DW_TAG_subrange_type)
                    continue;
                Dwarf_Attribute a;
                Dwarf_Word n = 0;
                if (dwarf_attr(&c, DW_AT_count, &a) && dwarf_formudata(&a, &n) == 0)
                    dims += "[" + std::to_string(n) + "]";
                else if (dwarf_attr(&c, DW_AT_upper_bound, &a) && dwarf_formudata(&a, &n) == 0)
                    dims += "[" + std::to_string(n + 1) + "]";
                else
                    dims += "[]";
            } while (dwarf_siblingof(&c, &c) == 0);
        return inner("?") + dims;
    }
    case DW_TAG_subroutine_type: {
        std::string params;
        Dwarf_Die c;
        if (dwarf_child(t, &c) == 0)
            do {
                Dwarf_Die pt;
                if (dwarf_tag(&c) == DW_TAG_formal_parameter)
                    params += (params.empty() ? "" : ", ") + (type_of(&c, &pt) ? describe(&pt, depth + 1) : "?");
                else if (dwarf_tag(&c) == DW_TAG_unspecified_parameters)
                    params += params.empty() ? "..." : ", ...";
            } while (dwarf_siblingof(&c, &c) == 0);
        return inner("void") + " (" + params + ")";
    }
    default:
        return "?";
    }
}

// ---- one type's layout, flattened: what a reader of its objects depends on.
struct Item {
    std::string name;
    int64_t at = 0;        // member: offset in bits; enumerator: its value
    int64_t bits = 0;      // bit-field width, 0 otherwise
    std::string type;      // member type as C would write it
};

struct Layout {
    int64_t size = -1;     // bytes; -1 when DWARF does not say
    bool is_enum = false;
    std::string stands_for;          // typedef: what it names
    std::vector<Item> items;
};

void flatten_members(Dwarf_Die *agg, int64_t base_bits, std::vector<Item> &out)
{
    Dwarf_Die m;
    if (dwarf_child(agg, &m) != 0)
        return;
    do {
        if (dwarf_tag(&m) != DW_TAG_member)
            continue;
        Dwarf_Attribute a;
        Dwarf_Word off = 0, bitoff = 0;
        if (dwarf_attr(&m, DW_AT_data_member_location, &a))
            dwarf_formudata(&a, &off);
        int64_t at = base_bits + static_cast<int64_t>(off) * 8;
        if (dwarf_attr(&m, DW_AT_data_bit_offset, &a) && dwarf_formudata(&a, &bitoff) == 0)
            at += static_cast<int64_t>(bitoff);
        int bits = dwarf_bitsize(&m);
        Dwarf_Die t;
        bool typed = type_of(&m, &t);
        std::string name = name_of(&m);
        if (name.empty() && typed && (dwarf_tag(&t) == DW_TAG_structure_type || dwarf_tag(&t) == DW_TAG_union_type) &&
            name_of(&t).empty()) {
            flatten_members(&t, at, out);   // an anonymous struct or union: its members are ours
            continue;
        }
        out.push_back(Item{name, at, bits > 0 ? bits : 0, typed ? describe(&t) : "?"});
    } while (dwarf_siblingof(&m, &m) == 0);
}

void flatten_enumerators(Dwarf_Die *e, std::vector<Item> &out)
{
    for (auto &en : enumerators_of(e))
        out.push_back(Item{std::move(en.name), en.value, 0, ""});
}

Layout layout_of(Dwarf_Die *d)
{
    Layout l;
    Dwarf_Die agg = *d;
    if (dwarf_tag(d) == DW_TAG_typedef) {
        if (!type_of(d, &agg)) {
            l.stands_for = "void";
            return l;
        }
        l.stands_for = describe(&agg);
        // typedef struct { ... } name_t: the anonymous type is known only by this name.
        if (!is_aggregate(dwarf_tag(&agg)) || !name_of(&agg).empty())
            return l;
    }
    l.size = dwarf_bytesize(&agg);
    if (dwarf_tag(&agg) == DW_TAG_enumeration_type) {
        l.is_enum = true;
        flatten_enumerators(&agg, l.items);
    } else {
        flatten_members(&agg, 0, l.items);
    }
    return l;
}

std::string position(int64_t bits)
{
    return bits % 8 ? "bit " + std::to_string(bits) : "offset " + std::to_string(bits / 8);
}

// What differs between two layouts, most telling first (size, members or enumerators
// added and removed, then those that moved or changed); empty when they are the same.
std::vector<std::string> differences(const Layout &o, const Layout &p)
{
    std::vector<std::string> out, changed;
    const char *kind = p.is_enum ? "enumerator `" : "member `";
    if (o.size != p.size)
        out.push_back("size " + std::to_string(o.size) + " -> " + std::to_string(p.size) + " bytes");
    if (o.stands_for != p.stands_for)
        out.push_back("it now stands for " + p.stands_for + " instead of " + o.stands_for);
    std::map<std::string, const Item *> old_items;
    for (auto &i : o.items)
        old_items.emplace(i.name, &i);
    std::set<std::string> seen;
    for (auto &i : p.items) {
        seen.insert(i.name);
        auto it = old_items.find(i.name);
        std::string what = kind + i.name + "`";
        if (it == old_items.end()) {
            out.push_back(what + (p.is_enum ? " added (= " + std::to_string(i.at) + ")"
                                            : " added at " + position(i.at)));
            continue;
        }
        const Item &was = *it->second;
        if (p.is_enum) {
            if (was.at != i.at)
                changed.push_back(what + " changed value from " + std::to_string(was.at) + " to " +
                                  std::to_string(i.at));
            continue;
        }
        if (was.at != i.at)
            changed.push_back(what + " moved from " + position(was.at) + " to " + position(i.at));
        if (was.type != i.type)
            changed.push_back(what + " changed type from " + was.type + " to " + i.type);
        if (was.bits != i.bits)
            changed.push_back(what + " changed width from " + std::to_string(was.bits) + " to " +
                              std::to_string(i.bits) + " bits");
    }
    for (auto &i : o.items)
        if (!seen.count(i.name))
            out.push_back(kind + i.name + "` removed");
    out.insert(out.end(), changed.begin(), changed.end());
    return out;
}

// ---- one object's DWARF: top-level names, found on first use.
class Unit {
public:
    explicit Unit(Dwarf *dw) : dw_(dw) {}
    Dwarf *dwarf() const { return dw_; }

    // Top-level definitions of a named type.
    const std::vector<Dwarf_Off> &types(const std::string &key)
    {
        index();
        static const std::vector<Dwarf_Off> none;
        auto it = types_.find(key);
        return it == types_.end() ? none : it->second;
    }
    // The top-level variable (a definition if there is one) of that name.
    std::optional<Dwarf_Off> variable(const std::string &name)
    {
        index();
        auto it = variables_.find(name);
        return it == variables_.end() ? std::nullopt : std::optional(it->second);
    }
    // The concrete subprogram whose code starts at DWARF address `addr`, else the one
    // named `name` (what the source calls the function).
    std::optional<Dwarf_Off> subprogram(uint64_t addr, const std::string &name)
    {
        index();
        if (auto it = code_at_.find(addr); it != code_at_.end())
            return it->second;
        if (auto it = code_named_.find(name); it != code_named_.end())
            return it->second;
        return std::nullopt;
    }

private:
    void index()
    {
        if (indexed_)
            return;
        indexed_ = true;
        for_each_top_level_die(dw_, [&](Dwarf_Die *d) { add(d); });
    }

    void add(Dwarf_Die *d)
    {
        int tag = dwarf_tag(d);
        Dwarf_Off off = dwarf_dieoffset(d);
        if (tag == DW_TAG_variable) {
            std::string name = name_of(d);
            if (!name.empty() && (!dwarf_hasattr(d, DW_AT_declaration) || !variables_.count(name)))
                variables_[name] = off;
            return;
        }
        if (tag == DW_TAG_subprogram) {
            Dwarf_Addr base, start, end;
            ptrdiff_t at = 0;
            bool concrete = false;
            while ((at = dwarf_ranges(d, at, &base, &start, &end)) > 0) {
                code_at_.emplace(start, off);
                concrete = true;
            }
            Dwarf_Attribute a;
            const char *n = dwarf_formstring(dwarf_attr_integrate(d, DW_AT_name, &a));
            if (concrete && n)
                code_named_.emplace(n, off);
            return;
        }
        std::string key = key_of(d);
        if (!key.empty())
            types_[key].push_back(off);
    }

    Dwarf *dw_;
    bool indexed_ = false;
    std::unordered_map<std::string, std::vector<Dwarf_Off>> types_;
    std::unordered_map<std::string, Dwarf_Off> variables_;
    std::unordered_map<uint64_t, Dwarf_Off> code_at_;
    std::unordered_map<std::string, Dwarf_Off> code_named_;
};

// ---- the closure of types one or more functions use (see the top of the file).
class Closure {
public:
    explicit Closure(Dwarf *dw) : dw_(dw) {}

    void add_subprogram(Dwarf_Off off)
    {
        Dwarf_Die d;
        if (!dwarf_offdie(dw_, off, &d))
            return;
        walk_tree(&d);
    }
    void add_variable(Dwarf_Off off)
    {
        Dwarf_Die d, t;
        if (dwarf_offdie(dw_, off, &d) && type_of(&d, &t))
            add_type(&t);
    }
    // Named, top-level types reached: (key, DIE offset).
    std::vector<std::pair<std::string, Dwarf_Off>> named() const
    {
        std::vector<std::pair<std::string, Dwarf_Off>> out;
        for (auto &[off, key] : named_)
            if (!local_.count(off))
                out.emplace_back(key, off);
        return out;
    }

private:
    // A DIE that is not a type and everything below it (a subprogram, block, inlined call).
    void walk_tree(Dwarf_Die *root)
    {
        if (!trees_.insert(dwarf_dieoffset(root)).second)
            return;
        std::vector<Dwarf_Die> stack{*root};
        while (!stack.empty()) {
            Dwarf_Die d = stack.back();
            stack.pop_back();
            int tag = dwarf_tag(&d);
            if (is_type(tag)) {
                local_.insert(dwarf_dieoffset(&d));   // defined inside a function
                add_type(&d);
                continue;
            }
            Dwarf_Die t, origin;
            if (type_of(&d, &t))
                add_type(&t);
            // An inlined call or a concrete instance: its abstract subprogram, whose
            // parameters and locals the source mentions even where the code lost them.
            if (ref_of(&d, DW_AT_abstract_origin, &origin) && dwarf_tag(&origin) == DW_TAG_subprogram)
                walk_tree(&origin);
            Dwarf_Die c;
            if (dwarf_child(&d, &c) == 0)
                do
                    stack.push_back(c);
                while (dwarf_siblingof(&c, &c) == 0);
        }
    }

    void add_type(Dwarf_Die *root)
    {
        std::vector<Dwarf_Die> work{*root};
        while (!work.empty()) {
            Dwarf_Die t = work.back();
            work.pop_back();
            Dwarf_Off off = dwarf_dieoffset(&t);
            if (!types_.insert(off).second)
                continue;
            if (std::string key = key_of(&t); !key.empty())
                named_.emplace(off, std::move(key));
            Dwarf_Die next;
            if (type_of(&t, &next))
                work.push_back(next);
            int tag = dwarf_tag(&t);
            if (tag != DW_TAG_structure_type && tag != DW_TAG_union_type && tag != DW_TAG_subroutine_type)
                continue;
            Dwarf_Die c;
            if (dwarf_child(&t, &c) == 0)
                do
                    if ((dwarf_tag(&c) == DW_TAG_member || dwarf_tag(&c) == DW_TAG_formal_parameter) &&
                        type_of(&c, &next))
                        work.push_back(next);
                while (dwarf_siblingof(&c, &c) == 0);
        }
    }

    Dwarf *dw_;
    std::unordered_set<Dwarf_Off> types_, trees_, local_;
    std::map<Dwarf_Off, std::string> named_;
};

// A changed type: the differences of its first definition in each build.
struct ChangedType {
    std::string key;
    std::string file;                 // where the patched build defines it
    std::vector<std::string> changes;
    std::vector<std::string> users;   // changed functions (C names)
};

class LayoutCheck {
public:
    LayoutCheck(const Comparison &cmp, CodeIndex &code_p, DebugInfo &orig, DebugInfo &patched)
        : cmp_(cmp), code_p_(code_p), debug_p_(patched), orig_(orig.dwarf()), patched_(patched.dwarf())
    {
    }

    // Fills `reached` with the keys of the named types the changed functions reach.
    std::vector<Refusal> run(std::set<std::string> &reached)
    {
        // Walk 1: the union of every changed function's closure.
        Closure all(patched_.dwarf());
        for (auto *f : cmp_.changed_functions)
            add_roots(all, *f);
        std::vector<ChangedType> changed;
        for (auto &[key, off] : all.named())
            if (reached.insert(key).second)
                if (auto c = compare(key, off))
                    changed.push_back(std::move(*c));
        if (changed.empty())
            return {};
        // Walk 2: which changed functions reach each changed type.
        for (auto *f : cmp_.changed_functions) {
            Closure one(patched_.dwarf());
            add_roots(one, *f);
            std::unordered_set<std::string> theirs;
            for (auto &[key, off] : one.named())
                theirs.insert(key);
            for (auto &c : changed)
                if (theirs.count(c.key) &&
                    std::find(c.users.begin(), c.users.end(), source_name(f->name)) == c.users.end())
                    c.users.push_back(source_name(f->name));
        }
        std::vector<Refusal> out;
        for (auto &c : changed)
            if (!c.users.empty())
                out.push_back(refusal(c));
        return out;
    }

private:
    void add_roots(Closure &closure, const Symbol &f)
    {
        auto addr = debug_p_.symbol_address(f.original_index);
        if (auto sub = patched_.subprogram(addr ? *addr - debug_p_.bias() : ~0ull, source_name(f.name)))
            closure.add_subprogram(*sub);
        // The globals it touches (here and in its .cold part).
        std::vector<const Section *> sections{f.section};
        if (auto *cold = cold_part_of(code_p_.object(), f); cold && cold->section)
            sections.push_back(cold->section);
        for (auto *s : sections) {
            if (!s || !s->relocations)
                continue;
            for (auto &r : s->relocations->entries) {
                Referent ref = code_p_.resolve(*s, r);
                if (ref.kind != Referent::Kind::Symbol || !ref.symbol->is_object() ||
                    ref.symbol->name.find('.') != std::string::npos)
                    continue;   // static locals (`count.3`) are inside their function's tree
                if (auto v = patched_.variable(ref.symbol->name))
                    closure.add_variable(*v);
            }
        }
    }

    std::optional<ChangedType> compare(const std::string &key, Dwarf_Off patched_off)
    {
        const auto &olds = orig_.types(key);
        if (olds.empty())
            return std::nullopt;   // new in the patch: no old objects of it exist
        Dwarf_Die p;
        if (!dwarf_offdie(patched_.dwarf(), patched_off, &p))
            return std::nullopt;
        Layout lp = layout_of(&p);
        std::vector<std::string> first;
        for (Dwarf_Off off : olds) {
            Dwarf_Die o;
            if (!dwarf_offdie(orig_.dwarf(), off, &o))
                continue;
            auto d = differences(layout_of(&o), lp);
            if (d.empty())
                return std::nullopt;   // the same as (one of) the original's
            if (first.empty())
                first = std::move(d);
        }
        if (first.empty())
            return std::nullopt;
        const char *file = dwarf_decl_file(&p);
        return ChangedType{key, file ? file : "", std::move(first), {}};
    }

    Refusal refusal(const ChangedType &c) const
    {
        size_t space = c.key.find(' ');
        std::string word = c.key.substr(0, space), name = c.key.substr(space + 1);
        std::string file = c.file;
        if (file.rfind("./", 0) == 0)
            file = file.substr(2);
        std::string text = word + " `" + name + "`" + (file.empty() ? "" : " (" + file + ")") +
                           (word == "enum" ? " changed its values: " : " changed its layout: ");
        for (size_t i = 0; i < c.changes.size() && i < 4; i++)
            text += (i ? ", " : "") + c.changes[i];
        if (c.changes.size() > 4)
            text += " and " + std::to_string(c.changes.size() - 4) + " more";
        text += "; used by changed function";
        text += c.users.size() > 1 ? "s " : " ";
        for (size_t i = 0; i < c.users.size() && i < 10; i++)
            text += (i ? ", `" : "`") + c.users[i] + "`";
        if (c.users.size() > 10)
            text += " and " + std::to_string(c.users.size() - 10) + " more";
        text += word == "enum"
                    ? ". Values stored in the running kernel keep their old meaning and old code keeps "
                      "the old numbering: keep the old values (add new ones where no old code sees them)"
                    : ". The running kernel holds objects of the old layout, which the new code would "
                      "misread: keep the old layout and attach new fields to existing objects with a "
                      "shadow variable (kpatch-shadow.h), converting existing state in a load hook "
                      "(KPATCH_PRE_PATCH_HOOK, kpatch-patch.h)";
        text += word == "enum" ? "; if no old value can reach the new code, say so with "
                                 "KPATCH_REVIEWED(function, \"why\") for each function named"
                               : "; if no object of the old layout can reach the new code, say so with "
                                 "KPATCH_REVIEWED(function, \"why\") for each function named";
        return Refusal{std::move(text), c.users};
    }

    const Comparison &cmp_;
    CodeIndex &code_p_;
    DebugInfo &debug_p_;
    Unit orig_, patched_;
};

} // namespace

std::map<std::string, std::vector<std::string>> functions_reaching(DebugInfo &debug,
                                                                   const std::set<std::string> &keys)
{
    std::map<std::string, std::vector<std::string>> out;
    Dwarf *dw = debug.dwarf();
    if (!dw || keys.empty())
        return out;
    for_each_top_level_die(dw, [&](Dwarf_Die *d) {
        // Functions with code here (not declarations, not only-inlined abstract ones).
        if (dwarf_tag(d) != DW_TAG_subprogram || !(dwarf_hasattr(d, DW_AT_low_pc) || dwarf_hasattr(d, DW_AT_ranges)))
            return;
        Dwarf_Attribute a;
        const char *name = dwarf_formstring(dwarf_attr_integrate(d, DW_AT_name, &a));
        if (!name)
            return;
        Closure one(dw);
        one.add_subprogram(dwarf_dieoffset(d));
        for (auto &[key, off] : one.named())
            if (keys.count(key)) {
                auto &v = out[key];
                if (std::find(v.begin(), v.end(), name) == v.end())
                    v.push_back(name);
            }
    });
    return out;
}

Layouts check_layouts(const Comparison &cmp, CodeIndex &code_p, DebugInfo &orig, DebugInfo &patched)
{
    Layouts out;
    if (cmp.changed_functions.empty())
        return out;
    if (!orig.dwarf() || !patched.dwarf()) {
        out.warnings.push_back("no DWARF in the " + std::string(orig.dwarf() ? "patched" : "original") +
                               " object: the layout of the types the changed functions use and the "
                               "values of the enumerators of the unit were not checked (build with "
                               "CONFIG_DEBUG_INFO)");
        return out;
    }
    out.refusals = LayoutCheck(cmp, code_p, orig, patched).run(out.reached);
    return out;
}

} // namespace kpatch::diff
