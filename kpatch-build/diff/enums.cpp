// Pass 4 (pipeline.cpp), compare, enumerators whose value changed anywhere in the compilation unit (licence: GPL-2.0-only).
//
// An enumerator is a constant: code that uses it holds its value as an immediate, with no
// relocation and, when it is passed as an int or stored in an int, no trace of the enum
// in the function's DWARF. The layout check (layout.cpp) sees an enum only when it is
// reachable from a changed function's types. This pass covers the rest: an enumerator of
// any top-level enum of the unit whose value differs between the builds means the new
// code passes, stores and compares numbers that the running kernel's code (the callers and
// callees the patch does not replace, in this object and in every other one built with the
// old header) reads by the old numbering. `enum mode { OFF, ON }` -> `{ OFF, SAFE, ON }`:
// the patched function passes 2 for ON to code that knows ON as 1 and 2 as nothing.
//
// SOUNDNESS. GCC keeps an enum's DWARF (with -feliminate-unused-debug-types, its default)
// exactly when the unit uses the enum or one of its enumerators, so an enum in both builds'
// DWARF is one that code or data of the object uses. Which functions use a constant
// cannot be told: no relocation marks an immediate, and equal numbers are everywhere. So
// the refusal names every changed and new function of the object (the code the patch
// brings in; its subjects, for KPATCH_REVIEWED); any function of this object that uses the
// constant has changed code and is among them. It also names the functions the patch
// leaves as they are whose DWARF types hold a named enum (a parameter or local of that
// type): old code of this object that reads the values by the old numbering. A false
// refusal is waived with KPATCH_REVIEWED; a missed one breaks kernels.
//
// What is compared: enumerators present in both builds, by name (C gives enumerators one
// file-wide namespace, so a name identifies one in named and anonymous enums alike).
// Appended enumerators (the old ones keep their values) and removed ones are not refused;
// an enum the changed functions reach is the layout check's (its rules are stricter) and
// is skipped here. Enums defined inside a function are skipped: only that function sees
// them, and a change of their values changes its code, which the patch then replaces.
// A #define-d constant leaves no DWARF (short of -g3) and cannot be checked (kpatch(7)).
#include <algorithm>
#include <map>

#include "diff/dwarf_unit.hpp"
#include "diff/passes.hpp"

namespace kpatch::diff {

std::vector<Enumerator> enumerators_of(Dwarf_Die *e)
{
    std::vector<Enumerator> out;
    Dwarf_Die c;
    if (dwarf_child(e, &c) != 0)
        return out;
    do {
        if (dwarf_tag(&c) != DW_TAG_enumerator)
            continue;
        Dwarf_Attribute a;
        Dwarf_Sword v = 0;
        if (dwarf_attr(&c, DW_AT_const_value, &a) && dwarf_formsdata(&a, &v) != 0) {
            Dwarf_Word u = 0;
            dwarf_formudata(&a, &u);
            v = static_cast<Dwarf_Sword>(u);
        }
        const char *n = dwarf_diename(&c);
        out.push_back(Enumerator{n ? n : "", v});
    } while (dwarf_siblingof(&c, &c) == 0);
    return out;
}

namespace {

// A top-level enum of one build: how the refusal names it, the key the layout check
// knows it by ("enum mode", "typedef mode_t"; "" for an anonymous enum no typedef names).
struct EnumType {
    std::string title;   // "enum `mode`", "typedef `mode_t`", "the anonymous enum of `A`"
    std::string key;
    std::string file;
    std::vector<Enumerator> values;
};

std::string decl_file(Dwarf_Die *d)
{
    const char *f = dwarf_decl_file(d);
    std::string file = f ? f : "";
    if (file.rfind("./", 0) == 0)
        file = file.substr(2);
    return file;
}

// The top-level enums of every unit of `dw`, in unit order.
std::vector<EnumType> unit_enums(Dwarf *dw)
{
    std::vector<EnumType> out;
    std::map<Dwarf_Off, size_t> anonymous;   // DIE offset -> index in out
    std::vector<std::pair<Dwarf_Off, std::string>> typedefs;   // of anonymous enums
    for_each_top_level_die(dw, [&](Dwarf_Die *d) {
        int tag = dwarf_tag(d);
        if (tag == DW_TAG_typedef) {
            Dwarf_Attribute a;
            Dwarf_Die t;
            const char *n = dwarf_diename(d);
            if (n && dwarf_attr(d, DW_AT_type, &a) && dwarf_formref_die(&a, &t) &&
                dwarf_tag(&t) == DW_TAG_enumeration_type && !dwarf_diename(&t))
                typedefs.emplace_back(dwarf_dieoffset(&t), n);
            return;
        }
        if (tag != DW_TAG_enumeration_type || dwarf_hasattr(d, DW_AT_declaration))
            return;
        EnumType e{"", "", decl_file(d), enumerators_of(d)};
        if (e.values.empty())
            return;
        if (const char *n = dwarf_diename(d)) {
            e.title = std::string("enum `") + n + "`";
            e.key = std::string("enum ") + n;
        } else {
            e.title = "the anonymous enum of `" + e.values.front().name + "`";
            anonymous.emplace(dwarf_dieoffset(d), out.size());
        }
        out.push_back(std::move(e));
    });
    // typedef enum { ... } mode_t: the layout check knows it by the typedef's name.
    for (auto &[off, name] : typedefs)
        if (auto it = anonymous.find(off); it != anonymous.end() && out[it->second].key.empty()) {
            out[it->second].title = "typedef `" + name + "` (an enum)";
            out[it->second].key = "typedef " + name;
        }
    return out;
}

std::string quoted_list(const std::vector<std::string> &names, size_t most)
{
    std::string s;
    for (size_t i = 0; i < names.size() && i < most; i++)
        s += (i ? ", `" : "`") + names[i] + "`";
    if (names.size() > most)
        s += " and " + std::to_string(names.size() - most) + " more";
    return s;
}

} // namespace

std::vector<Refusal> check_enum_values(const Comparison &cmp, DebugInfo &orig, DebugInfo &patched,
                                       const std::set<std::string> &reached)
{
    if (cmp.changed_functions.empty() && cmp.new_functions.empty())
        return {};
    if (!orig.dwarf() || !patched.dwarf())
        return {};   // check_layouts warned
    std::map<std::string, int64_t> old_value;
    for (auto &e : unit_enums(orig.dwarf()))
        for (auto &v : e.values)
            old_value.emplace(v.name, v.value);

    // The code the patch brings in: any user of a changed constant in this object is in it.
    std::vector<std::string> users;
    for (const auto *list : {&cmp.changed_functions, &cmp.new_functions})
        for (auto *f : *list)
            if (std::string n = source_name(f->name); std::find(users.begin(), users.end(), n) == users.end())
                users.push_back(std::move(n));

    struct Changed {
        EnumType type;
        std::vector<std::string> changes;
    };
    std::vector<Changed> changed;
    std::set<std::string> done;   // an enum defined twice (several units) is reported once
    for (auto &e : unit_enums(patched.dwarf())) {
        if (!e.key.empty() && reached.count(e.key))
            continue;   // the layout check's
        std::vector<std::string> changes;
        for (auto &v : e.values)
            if (auto it = old_value.find(v.name); it != old_value.end() && it->second != v.value)
                changes.push_back("enumerator `" + v.name + "` changed value from " + std::to_string(it->second) +
                                  " to " + std::to_string(v.value));
        if (!changes.empty() && done.insert(e.title).second)
            changed.push_back(Changed{std::move(e), std::move(changes)});
    }
    if (changed.empty())
        return {};

    // Functions the patch leaves as they are whose own types hold the enum: they read and
    // pass its values by the old numbering (only enums with a name can be looked for).
    std::set<std::string> keys;
    for (auto &c : changed)
        if (!c.type.key.empty())
            keys.insert(c.type.key);
    auto holders = functions_reaching(patched, keys);

    std::vector<Refusal> out;
    for (auto &[e, changes] : changed) {
        std::string text = e.title + (e.file.empty() ? "" : " (" + e.file + ")") + " changed its values: ";
        text += changes[0];
        for (size_t i = 1; i < changes.size() && i < 4; i++)
            text += ", " + changes[i];
        if (changes.size() > 4)
            text += " and " + std::to_string(changes.size() - 4) + " more";
        text += ". No changed function's types reach the enum, so its enumerators are used as plain "
                "constants, which leave no trace of which code holds them: the new numbering may be "
                "compiled into the patch's function" +
                std::string(users.size() > 1 ? "s " : " ") + quoted_list(users, 10) +
                ", while the code the patch does not replace (their callers and callees here and in "
                "every object built with the old definition) and the values already stored keep the old "
                "numbering";
        std::vector<std::string> old_code;
        if (auto it = holders.find(e.key); it != holders.end())
            for (auto &f : it->second)
                if (std::find(users.begin(), users.end(), f) == users.end())
                    old_code.push_back(f);
        if (!old_code.empty())
            text += " (here: " + quoted_list(old_code, 10) + ", whose types hold the enum)";
        text += ". Keep the old values (append new enumerators at the end); if no old value can meet "
                "the new code, say so with KPATCH_REVIEWED(function, \"why\") for each function of the "
                "patch named";
        out.push_back(Refusal{std::move(text), users});
    }
    return out;
}

} // namespace kpatch::diff
