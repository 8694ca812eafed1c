// The differ's pipeline: the passes in their order, and why that order (licence: GPL-2.0-only).
//
// Each pass takes the earlier passes' results as const inputs and returns a value of its
// own; nothing edits a result once returned. The file headers of the passes carry these
// numbers.
//   0. check that the objects can be compared (same machine, same source file);
//   1. index both objects (symbols by section; instruction boundaries on demand);
//   2. correlate (correlate.cpp): twins are what every later pass compares through;
//   3. split special sections (special.cpp): comparison needs each function's entries;
//   4. compare (compare.cpp): data first, then functions (a function with several names,
//      aliases.cpp, once), leaving out what the patch says
//      to ignore (markers.cpp, kpatch-macros.h); when a function changed, the
//      layout of the types the changed functions use (layout.cpp, DWARF) and the values
//      of the unit's other enumerators, which code holds as constants (enums.cpp); the patch's
//      KPATCH_REVIEWED entries (reviewed.cpp) turn the refusals they cover into warnings
//      (Waivers) and leave out the functions a waiver drops (a new Comparison);
//      refusals left stop here (exit 2), and no change at all stops here (exit 3);
//   5. include (include.cpp): from changed and new functions to everything they need
//      that the kernel does not have, or that is a local read-only constant the patch
//      is better off copying (constants.cpp, the rule and its limits);
//      unknown special sections refuse here; last, the
//      patch's hook sections (hooks.cpp), which only point at new functions;
//   6. output (output.cpp, klp.cpp): the patch object and its .kpatch.funcs table.
// The DiffResult is made once, from what the passes returned (result_of()).
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

template <typename T> void append(std::vector<T> &to, const std::vector<T> &more)
{
    to.insert(to.end(), more.begin(), more.end());
}

// What the passes returned, as far as the run got. result_of() is the one place a
// DiffResult is made, from these and nothing else.
struct Passes {
    const Correlation &corr;
    const SpecialLayout &special_p;
    const MarkerReport &markers;
    const Layouts &layouts;
    const Waivers &waivers;
    const Comparison &cmp;            // after the waivers
    const Inclusion *inc = nullptr;   // set once include() ran
    Output *out = nullptr;            // set once build_output() ran (its parts are moved out)
};

DiffResult result_of(Outcome outcome, const Passes &p, const Options &options)
{
    DiffResult r;
    r.outcome = outcome;
    r.entry_sizes = p.special_p.sizes;
    for (auto &[name, why] : p.special_p.undelimited)
        r.entry_sizes[name] = "not cut into entries: " + why;
    r.warnings = p.markers.warnings;
    append(r.warnings, p.layouts.warnings);
    append(r.warnings, p.waivers.warnings);
    r.ignored = p.markers.ignored;
    r.unsafe = p.markers.unsafe;
    r.reviewed = p.waivers.reviewed;
    r.line_shift_only = p.cmp.line_shift_only;
    r.refusals = p.waivers.standing;
    if (p.inc && !p.inc->refusals.empty())
        r.refusals = p.inc->refusals;
    if (p.inc && p.inc->refusals.empty())
        for (auto &[name, why] : p.special_p.undelimited)
            r.warnings.push_back("section " + name + " is left out of the patch: no copied function has "
                                 "entries there, and it could not be cut into entries (" + why + ")");
    if (!p.out) {
        // Before the output pass: the kernel's names and sizes, no positions yet.
        for (auto *f : p.cmp.changed_functions)
            r.changed.push_back(ChangedFunction{f->name, p.corr.twin(f)->name, options.klp_object, 0,
                                                p.corr.twin(f)->size, f->size, {}, 0, {}, {}});
        for (auto *f : p.cmp.new_functions)
            r.new_functions.push_back(f->name);
        return r;
    }
    Output &o = *p.out;
    r.changed = std::move(o.changed);
    r.new_functions = std::move(o.new_functions);
    r.new_data = std::move(o.new_data);
    r.klp = std::move(o.klp);
    r.undefined = std::move(o.undefined);
    r.from_patch = std::move(o.from_patch);
    r.special_entries = std::move(o.special_entries);
    append(r.warnings, o.warnings);
    append(r.refusals, o.refusals);
    if (outcome == Outcome::Changed)
        r.output = std::move(o.object);
    if (outcome == Outcome::Changed && !r.klp.empty() && (!options.symbols || !options.symbols->knows_exports()))
        r.warnings.push_back("nothing is known about exports (no Module.symvers): every kernel "
                             "symbol is reached through .klp.sym relocations");
    return r;
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
    const Correlation corr = correlate(code_o, code_p);

    DebugInfo debug_o(orig.path), debug_p(patched.path);
    StructSizes structs_o(debug_o, &options.kernel_entry_sizes),
        structs_p(debug_p, &options.kernel_entry_sizes);
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
    const Comparison compared = compare(corr, code_o, code_p, *special_o, *special_p, lines, *markers);
    const MarkerReport marked = report_markers(*markers, patched, compared);
    auto entries = read_reviewed(patched);
    if (!entries)
        return entries.error();
    const Layouts layouts = check_layouts(compared, code_p, debug_o, debug_p);
    std::vector<Refusal> refusals = compared.refusals;
    append(refusals, layouts.refusals);
    append(refusals, check_enum_values(compared, debug_o, debug_p, layouts.reached));
    const Waivers waivers = apply_reviews(refusals, std::move(*entries));
    const Comparison cmp = without_dropped(compared, waivers.dropped);

    Passes passes{corr, *special_p, marked, layouts, waivers, cmp};
    if (!waivers.standing.empty())
        return result_of(Outcome::Refused, passes, options);
    if (cmp.changed_functions.empty() && cmp.new_functions.empty() && cmp.new_globals.empty())
        return result_of(Outcome::Unchanged, passes, options);

    const Inclusion inc = include(corr, cmp, code_p, *special_p, private_constants(corr, code_o, code_p));
    passes.inc = &inc;
    if (!inc.refusals.empty())
        return result_of(Outcome::Refused, passes, options);

    OutputContext ctx{orig, patched, corr, cmp, inc, *special_p, code_p, options, {}};
    ctx.special_o = &*special_o;
    ctx.markers = &*markers;
    for (auto &s : orig.symbols)
        if (s->is_defined() && !s->is_section_symbol() && s->type != STT_FILE)
            ctx.orig_defined.push_back(s->name);
    auto out = build_output(ctx);
    if (!out)
        return out.error();
    passes.out = &*out;
    // A refusal here: a module's symbol in a section the module loader applies at load.
    return result_of(out->refusals.empty() ? Outcome::Changed : Outcome::Refused, passes, options);
}

} // namespace kpatch::diff
