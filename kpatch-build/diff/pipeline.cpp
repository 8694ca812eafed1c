// The differ's pipeline: the passes in their order, and why that order (licence: GPL-2.0-only).
//
//   0. check that the objects can be compared (same machine, same source file);
//   1. index both objects (symbols by section; instruction boundaries on demand);
//   2. correlate (correlate.cpp): twins are what every later pass compares through;
//   3. split special sections (special.cpp): comparison needs each function's entries;
//   4. compare (compare.cpp): data first, then functions (a function with several names,
//      aliases.cpp, once), leaving out what the patch says
//      to ignore (markers.cpp, kpatch-macros.h); when a function changed, the
//      layout of the types the changed functions use (layout.cpp, DWARF) and the values
//      of the unit's other enumerators, which code holds as constants (enums.cpp); the patch's
//      KPATCH_REVIEWED entries (reviewed.cpp) turn the refusals they cover into warnings;
//      refusals left stop here (exit 2), and no change at all stops here (exit 3);
//   5. include (include.cpp): from changed and new functions to everything they need
//      that the kernel does not have, or that is a local read-only constant the patch
//      is better off copying (constants.cpp, the rule and its limits);
//      unknown special sections refuse here; then the
//      patch's hook sections (hooks.cpp), which only point at new functions;
//   6. output (output.cpp, klp.cpp): the patch object and its .kpatch.funcs table.
#include <elf.h>

#include "diff/passes.hpp"

namespace kpatch::diff {
namespace {

std::string source_file(const Object &o)
{
    for (auto &s : o.symbols)
        if (s->type == STT_FILE)
            return s->name;
    return {};
}

Expected<void> check_comparable(const Object &orig, const Object &patched)
{
    if (orig.machine != patched.machine)
        return Error{"the objects are for different machines (" + std::to_string(orig.machine) +
                     " and " + std::to_string(patched.machine) + ")"};
    std::string a = source_file(orig), b = source_file(patched);
    if (!a.empty() && !b.empty() && a != b)
        return Error{"the objects come from different source files (" + a + " and " + b + ")"};
    return {};
}

} // namespace

Expected<DiffResult> run_diff(const Object &orig, const Object &patched, const Options &options)
{
    if (auto ok = check_comparable(orig, patched); !ok)
        return ok.error();
    auto arch = arch::Arch::for_machine(patched.machine);
    if (!arch)
        return arch.error().in(patched.path);

    CodeIndex code_o(**arch, orig), code_p(**arch, patched);
    Correlation corr = correlate(code_o, code_p);

    DebugInfo debug_o(orig.path), debug_p(patched.path);
    StructSizes structs_o(debug_o), structs_p(debug_p);
    auto special_o = split_special_sections(orig, code_o, options.entry_sizes, structs_o);
    if (!special_o)
        return special_o.error().in(orig.path);
    auto special_p = split_special_sections(patched, code_p, options.entry_sizes, structs_p);
    if (!special_p)
        return special_p.error().in(patched.path);
    // A table the original cannot cut cannot be compared either: a copied function with
    // entries there stops the patch as if the patched side could not be cut.
    for (auto &[name, why] : special_o->undelimited)
        special_p->undelimited.emplace(name, "in the original object, " + why);
    LineTables lines(debug_o, debug_p);
    auto markers = read_markers(patched);
    if (!markers)
        return markers.error();
    Comparison cmp = compare(corr, code_o, code_p, *special_o, *special_p, lines, *markers);

    DiffResult result;
    result.entry_sizes = special_p->sizes;
    for (auto &[name, why] : special_p->undelimited)
        result.entry_sizes[name] = "not cut into entries: " + why;
    report_markers(*markers, patched, cmp, result);
    auto reviewed = read_reviewed(patched);
    if (!reviewed)
        return reviewed.error();
    result.reviewed = std::move(*reviewed);
    std::vector<Refusal> refusals = std::move(cmp.refusals);
    std::set<std::string> reached;
    for (auto &r : check_layouts(cmp, code_p, debug_o, debug_p, result.warnings, reached))
        refusals.push_back(std::move(r));
    for (auto &r : check_enum_values(cmp, debug_o, debug_p, reached))
        refusals.push_back(std::move(r));
    result.refusals = apply_reviews(std::move(refusals), cmp, result);

    result.line_shift_only = cmp.line_shift_only;
    for (auto *f : cmp.changed_functions)
        result.changed.push_back(ChangedFunction{f->name, corr.twin(f)->name, options.klp_object, 0,
                                                 corr.twin(f)->size, f->size, {}, 0, {}, {}});
    for (auto *f : cmp.new_functions)
        result.new_functions.push_back(f->name);
    if (!result.refusals.empty()) {
        result.outcome = Outcome::Refused;
        return result;
    }
    if (cmp.changed_functions.empty() && cmp.new_functions.empty() && cmp.new_globals.empty()) {
        result.outcome = Outcome::Unchanged;
        return result;
    }

    Inclusion inc = include(corr, cmp, code_p, *special_p, private_constants(corr, code_o, code_p));
    if (!inc.refusals.empty()) {
        result.outcome = Outcome::Refused;
        result.refusals = inc.refusals;
        return result;
    }
    include_hooks(code_p, inc);
    for (auto &[name, why] : special_p->undelimited)
        result.warnings.push_back("section " + name + " is left out of the patch: no copied function has "
                                  "entries there, and it could not be cut into entries (" + why + ")");

    OutputContext ctx{orig, patched, corr, cmp, inc, *special_p, code_p, options, {}};
    ctx.special_o = &*special_o;
    ctx.markers = &*markers;
    for (auto &s : orig.symbols)
        if (s->is_defined() && !s->is_section_symbol() && s->type != STT_FILE)
            ctx.orig_defined.push_back(s->name);
    // The output pass fills these again, with positions.
    result.changed.clear();
    result.new_functions.clear();
    if (auto ok = build_output(ctx, result); !ok)
        return ok.error();
    if (!result.refusals.empty()) {   // a module's symbol in a section applied at load
        result.output.reset();
        result.outcome = Outcome::Refused;
        return result;
    }
    if (!result.klp.empty() && (!options.symbols || !options.symbols->is_exported("").has_value()))
        result.warnings.push_back("nothing is known about exports (no Module.symvers): every kernel "
                                  "symbol is reached through .klp.sym relocations");
    result.outcome = Outcome::Changed;
    return result;
}

} // namespace kpatch::diff
