// The patch's hooks in the generated patch module (licence: GPL-2.0-only).
#include "module_hooks.hpp"

#include <elf.h>
#include <map>

#include "elf/object.hpp"

namespace kpatch::driver {

namespace {

struct Kind {
    const char *name;    // section suffix and kpatch_patch_desc field
    const char *macro;   // in kpatch-patch.h, for messages
    bool returns_int;    // pre_patch may refuse
};

constexpr Kind kKinds[] = {
    {"pre_patch", "KPATCH_PRE_PATCH_HOOK", true},
    {"post_patch", "KPATCH_POST_PATCH_HOOK", false},
    {"pre_unpatch", "KPATCH_PRE_UNPATCH_HOOK", false},
    {"post_unpatch", "KPATCH_POST_UNPATCH_HOOK", false},
};

constexpr std::string_view kPrefix = ".kpatch.hooks.";

const Kind *find_kind(std::string_view name)
{
    for (const Kind &k : kKinds)
        if (name == k.name)
            return &k;
    return nullptr;
}

// The function an entry's relocation names: the symbol itself, or the function at the
// addend when the relocation is against a section symbol.
std::string target_name(const elf::Object &obj, const elf::Relocation &r)
{
    if (!r.symbol)
        return "?";
    if (!r.symbol->is_section_symbol() || !r.symbol->section)
        return r.symbol->name;
    for (const elf::Symbol *s : obj.symbols_in(*r.symbol->section))
        if (s->is_function() && static_cast<int64_t>(s->value) == r.addend)
            return s->name;
    return r.symbol->section->name + "+" + std::to_string(r.addend);
}

bool is_identifier(const std::string &s)
{
    if (s.empty() || std::isdigit(static_cast<unsigned char>(s[0])))
        return false;
    for (char c : s)
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_')
            return false;
    return true;
}

// kpatch_pre_patch_<fn>: last_error and the kernel log name the wrapper (%ps), so its
// name carries the patch's function.
std::string wrapper_name(const Kind &k, const std::string &function)
{
    std::string name = std::string("kpatch_") + k.name;
    return is_identifier(function) && function.size() < 64 ? name + "_" + function : name;
}

std::string object_name(const std::string &module)
{
    return module.empty() ? "vmlinux" : "module " + module;
}

} // namespace

Expected<std::vector<PatchHook>> find_hooks(const std::vector<DiffOutput> &diffs)
{
    std::map<std::string, std::vector<PatchHook>> by_kind;
    for (const auto &d : diffs) {
        auto obj = elf::read_object(d.output);
        if (!obj)
            return obj.error();
        for (const auto &s : (*obj)->sections) {
            if (s->type == SHT_RELA || !s->name.starts_with(kPrefix))
                continue;
            std::string kind = s->name.substr(kPrefix.size());
            if (!find_kind(kind))
                return make_error(d.object + ": unknown hook section " + s->name +
                                  " (kpatch-patch.h has pre_patch, post_patch, pre_unpatch, "
                                  "post_unpatch)");
            size_t entries = s->size() / 8;
            std::vector<std::string> names(entries, "?");
            if (s->relocations)
                for (const auto &r : s->relocations->entries)
                    if (r.offset / 8 < entries)
                        names[r.offset / 8] = target_name(**obj, r);
            for (auto &n : names)
                by_kind[kind].push_back({kind, n, d.object, d.module});
        }
    }
    std::vector<PatchHook> hooks;
    std::string problems;
    for (const Kind &k : kKinds) {
        const auto &list = by_kind[k.name];
        if (list.size() > 1) {
            problems += std::string("\n  ") + std::to_string(list.size()) + " " + k.name +
                        " hooks (" + k.macro + "):";
            for (const auto &h : list)
                problems += " `" + h.function + "` (" + h.object + ")";
        }
        if (!list.empty())
            hooks.push_back(list.front());
    }
    if (!problems.empty())
        return Error{"a patch module has at most one hook of each kind; merge these into one "
                     "function each:" + problems, kExitError};
    for (const auto &h : hooks)
        if (h.module != hooks.front().module)
            return Error{"the hooks of a patch module must all be in files of one kernel "
                         "object, since they run when that object's part is applied or "
                         "reverted: `" + hooks.front().function + "` (" +
                         hooks.front().object + ") belongs to " +
                         object_name(hooks.front().module) + ", `" + h.function + "` (" +
                         h.object + ") to " + object_name(h.module) +
                         "; move them into one object's files", kExitError};
    return hooks;
}

std::string hooks_module(const std::vector<PatchHook> &hooks)
{
    return hooks.empty() ? std::string() : hooks.front().module;
}

nlohmann::json hooks_manifest(const std::vector<PatchHook> &hooks)
{
    nlohmann::json j = nlohmann::json::object();
    for (const auto &h : hooks)
        j[h.kind] = h.function;
    return j;
}

std::string hooks_wrappers(const nlohmann::json &hooks)
{
    if (!hooks.is_object() || hooks.empty())
        return {};
    std::string src = "/* The patch's hooks (kpatch-patch.h), bracketed by kpatch.lds. */\n";
    for (const Kind &k : kKinds) {
        if (!hooks.contains(k.name))
            continue;
        std::string array = std::string("__kpatch_hooks_") + k.name;
        std::string ret = k.returns_int ? "int" : "void";
        src += "extern " + ret + " (*const " + array + "[])(void);\n"
               "static " + ret + " " + wrapper_name(k, hooks[k.name].get<std::string>()) +
               "(struct kpatch_patch_desc *patch)\n"
               "{\n"
               "\t" + (k.returns_int ? "return " : "") + array + "[0]();\n"
               "}\n\n";
    }
    return src;
}

std::string hooks_fields(const nlohmann::json &hooks, const std::string &module)
{
    std::string src;
    if (!hooks.is_object())
        return src;
    for (const Kind &k : kKinds)
        if (hooks.contains(k.name))
            src += std::string("\t.") + k.name + " = " +
                   wrapper_name(k, hooks[k.name].get<std::string>()) + ",\n";
    // A module name is an identifier-like kbuild name (no quotes or backslashes).
    if (!module.empty() && !src.empty())
        src += "\t.hooks_objname = \"" + module + "\",\n";
    return src;
}

const char kHooksLinkerScript[] =
    "\t.kpatch.hooks : ALIGN(8) {\n"
    "\t\t__kpatch_hooks_pre_patch = .;\n"
    "\t\tKEEP(*(.kpatch.hooks.pre_patch))\n"
    "\t\t__kpatch_hooks_post_patch = .;\n"
    "\t\tKEEP(*(.kpatch.hooks.post_patch))\n"
    "\t\t__kpatch_hooks_pre_unpatch = .;\n"
    "\t\tKEEP(*(.kpatch.hooks.pre_unpatch))\n"
    "\t\t__kpatch_hooks_post_unpatch = .;\n"
    "\t\tKEEP(*(.kpatch.hooks.post_unpatch))\n"
    "\t}\n";

} // namespace kpatch::driver
