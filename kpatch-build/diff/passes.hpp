// Internal interface between the differ's passes: their typed results (licence: GPL-2.0-only).
// The order they run in, and why, is in pipeline.cpp.
#pragma once

#include <algorithm>
#include <memory>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "arch/arch.hpp"
#include "diff/diff.hpp"

// libdw's handles, without its headers (only debuginfo.cpp, lines.cpp, layout.cpp and enums.cpp need them).
typedef struct Dwarf Dwarf;
typedef struct Dwfl_Module Dwfl_Module;

namespace kpatch::diff {

using elf::Object;
using elf::Relocation;
using elf::Section;
using elf::Symbol;

class CodeIndex;

// ---- correlate.cpp: which symbol and section of one object is which of the other.
struct Correlation {
    std::unordered_map<const Symbol *, const Symbol *> orig_of;      // patched -> original
    std::unordered_map<const Symbol *, const Symbol *> patched_of;   // original -> patched
    std::unordered_map<const Section *, const Section *> orig_section_of;

    const Symbol *twin(const Symbol *patched) const;
    const Section *twin(const Section *patched) const;
    void pair(const Symbol *patched, const Symbol *orig);
};
// The name without the suffixes compilers add and renumber (.constprop.N, .isra.N,
// .part.N, .cold, static-local .N): the key correlation matches on.
std::string base_name(std::string_view name);
Correlation correlate(CodeIndex &orig, CodeIndex &patched);
// The function a cold part was split from: "foo" for "foo.cold" (GCC 10 and later) and
// for "foo.cold.3" (GCC 8 and 9 number them); "" when `name` is no cold part.
std::string cold_parent(std::string_view name);
inline bool is_cold_part(std::string_view name) { return !cold_parent(name).empty(); }
// The cold part of function `f` in `object`, if it has one.
const Symbol *cold_part_of(const Object &object, const Symbol &f);

// ---- referent.cpp: what a relocation means, independent of symbol numbering.
struct Referent {
    enum class Kind { None, Symbol, String, Section } kind = Kind::None;
    const Symbol *symbol = nullptr;   // Kind::Symbol: the object symbol (never a section symbol)
    const Section *section = nullptr; // Kind::String / Kind::Section
    int64_t offset = 0;               // Kind::Symbol: the addend as if against the symbol
    int64_t position = 0;             // where in the symbol/section it points (bias removed)
    std::string_view text;            // Kind::String: the NUL-terminated string referred to
};

// Per-object lookups that passes share: symbols by section, instruction boundaries.
class CodeIndex {
public:
    CodeIndex(const arch::Arch &arch, const Object &object);
    const arch::Arch &arch() const { return arch_; }
    const Object &object() const { return object_; }
    // The referent of relocation `r` in section `where`.
    Referent resolve(const Section &where, const Relocation &r);
    // The symbol of `section` that covers `offset`, if any (the largest when several do).
    const Symbol *covering(const Section &section, int64_t offset) const;
    // The symbols of a section by address (no section or file symbols).
    const std::vector<const Symbol *> &symbols_in(const Section &section) const;
    // The function a text section starts with, if any.
    const Symbol *function_of(const Section &section) const;

private:
    int64_t bias(const Section &where, const Relocation &r);
    const arch::Arch &arch_;
    const Object &object_;
    std::unordered_map<const Section *, std::vector<const Symbol *>> by_section_;
    std::unordered_map<const Section *, std::vector<arch::Insn>> insns_;
};

// ---- aliases.cpp: one function under several names (same section, address and size),
// as `__alias` and older kernels' SYSCALL_DEFINE (SyS_foo and sys_foo) make them. A copy
// shares the (immutable) groups.
class Aliases {
public:
    Aliases() = default;
    Aliases(const Object &patched, const Correlation &corr);
    // The name the function is patched under (the rule is in aliases.cpp); `f` itself
    // when it has no other name.
    const Symbol *canonical(const Symbol *f) const;
    // All names of `f`'s function, canonical first; empty when it has only one.
    const std::vector<const Symbol *> &names(const Symbol *f) const;
    bool is_second_name(const Symbol *f) const { return canonical(f) != f; }
    // Whether `pred` holds for `f` or for another of its names (a marker naming any).
    template <typename Pred> bool any_name(const Symbol &f, Pred pred) const
    {
        const auto &all = names(&f);
        return pred(f) || std::any_of(all.begin(), all.end(), [&](const Symbol *n) { return pred(*n); });
    }

private:
    std::unordered_map<const Symbol *, std::shared_ptr<const std::vector<const Symbol *>>> group_of_;
};

// ---- special.cpp: tables of per-instruction entries, split into entries.
struct SpecialEntry {
    const Section *section = nullptr;
    uint64_t offset = 0;
    unsigned size = 0;                            // bytes present: less than the stride for
                                                  // a last entry without its tail padding
    std::vector<const Relocation *> relocations;  // those inside the entry
    const Section *owner = nullptr;               // the text section it describes
    uint64_t owner_offset = 0;
    uint64_t index = 0;                           // entry number (ORC pairs by number)
};
struct SpecialLayout {
    // Entries by section name, in section order.
    std::map<std::string, std::vector<SpecialEntry>> entries;
    // The entries that describe each text section.
    std::unordered_map<const Section *, std::vector<const SpecialEntry *>> by_owner;
    // Entry size per split section and where it came from (entry_size.cpp), e.g.
    // "16 bytes, from the stride of its relocations".
    std::map<std::string, std::string> sizes;
    // Sections that could not be cut into entries, and why; they have no entries above.
    // Only a copied function with entries there stops the patch (include.cpp).
    std::map<std::string, std::string> undelimited;
    // The stride of `section`'s entries (what a short last entry is padded to on output).
    std::map<std::string, uint64_t, std::less<>> strides;
};
bool is_special_section(const arch::Arch &arch, std::string_view name);
// Whether the entries of `section` point at records describing the object's own code
// (.printk_index): a kept entry's record is copied, never taken from the kernel.
bool entries_point_at_records(std::string_view section);
class StructSizes;
Expected<SpecialLayout> split_special_sections(const Object &object, CodeIndex &code,
                                               const EntrySizes &sizes, StructSizes &structs);

// ---- debuginfo.cpp: one object's DWARF with its relocations applied, opened on first use.
class DebugInfo {
public:
    explicit DebugInfo(std::string path);   // "" (an object read from memory): no DWARF
    ~DebugInfo();
    DebugInfo(const DebugInfo &) = delete;
    DebugInfo &operator=(const DebugInfo &) = delete;
    Dwarf *dwarf();             // null when the object has no (readable) DWARF
    Dwfl_Module *module();      // null likewise
    uint64_t bias();            // add to a DWARF address to get a module address
    // The module address of symbol number `index` of the object's symbol table.
    std::optional<uint64_t> symbol_address(uint32_t index);

private:
    void open();
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// ---- entry_size.cpp: how long one entry of a special section is, and where that was learnt.
// Struct sizes from one object's DWARF, read on first use, and the kernel tree's sizes by
// section (kpatch-build measures them; may be null).
class StructSizes {
public:
    explicit StructSizes(DebugInfo &debug, const EntrySizes *tree = nullptr)
        : debug_(debug), tree_(tree) {}
    std::optional<unsigned> size_of(const char *name);
    std::optional<unsigned> from_tree(std::string_view section) const;

private:
    DebugInfo &debug_;
    const EntrySizes *tree_;
    bool read_ = false;
    std::map<std::string, unsigned, std::less<>> sizes_;
};
struct EntryCut {
    uint64_t stride = 0;   // bytes from one entry to the next
    uint64_t count = 0;    // entries, the last possibly short of its tail padding
    std::string source;    // where the stride came from, for messages
};
// Cuts special section `s` into entries (`usual`: its arch's SpecialSection::entry_size); an
// Error says why no size fits.
Expected<EntryCut> cut_entries(const Section &s, unsigned usual, const EntrySizes &overrides,
                               StructSizes &structs, CodeIndex &code);
// kpatch-build's environment name for `section`'s entry size, or null.
const char *entry_size_variable(std::string_view section);

// ---- lines.cpp: how the source lines of one function moved (line-shift robustness).
class LineTables {
public:
    // Read on first use from the objects' DWARF; empty when there is none.
    LineTables(DebugInfo &orig, DebugInfo &patched);
    ~LineTables();
    // Whether line `orig_line` of the original became `patched_line`, judging by the
    // lines of instructions at equal offsets of the twin sections.
    bool is_line_shift(const Section &orig, const Section &patched, int64_t orig_line,
                       int64_t patched_line);
    // Whether both objects have a line table (neither was built or stripped without DWARF).
    bool available();

private:
    void load();
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// ---- line_calls.cpp: moved line numbers told from the code, for objects without DWARF.
// Whether immediate change `c` of patched function `p` (`code`: its bytes, relocated
// fields zeroed) is a moved line number: the line table says so, or, without one, the
// immediate is the line argument of a call known to take __LINE__ (__might_sleep, ...).
bool is_moved_line(LineTables &lines, CodeIndex &code_p, const Symbol &o, const Symbol &p,
                   const std::vector<uint8_t> &code, const arch::ImmediateChange &c);
// Whether a bug-table entry's line field that went from `o_line` to `p_line` (the entry
// otherwise the same) is a moved line: by the line table, or without one, always (the
// field holds nothing else) as long as both are plausible line numbers.
bool is_moved_bug_line(LineTables &lines, const Symbol &o, const Symbol &p, int64_t o_line, int64_t p_line);

// A reason the patch cannot be applied live. `subjects` are the functions or variables it
// concerns: when every one is marked KPATCH_REVIEWED in the patch (reviewed.cpp), it is
// waived and becomes a warning; empty = not waivable (a defect of the build, not a
// judgement a reviewer can make). `dropped`: a changed function that is not patched when
// the refusal is waived (__init code, which the running kernel has freed).
struct Refusal {
    std::string text;
    std::vector<std::string> subjects;
    const Symbol *dropped = nullptr;
};

// ---- markers.cpp: what a patch written for kpatch marks (kpatch-macros.h).
struct Markers {
    std::set<std::string, std::less<>> functions;   // KPATCH_IGNORE_FUNCTION: C names
    std::set<std::string, std::less<>> sections;    // KPATCH_IGNORE_SECTION: section names
    std::set<std::string, std::less<>> unsafe;      // KPATCH_FORCE_UNSAFE: C names
    // Whether `s` (a patched symbol) is ignored: its section is, or it is a function (or
    // a part of one: foo.cold, foo.constprop.0) that an entry names.
    bool covers(const Symbol &s) const;
    // Whether replaced function `s` skips the core's stack check (KPATCH_FUNC_NO_STACK_CHECK).
    bool is_unsafe(const Symbol &s) const;
};
Expected<Markers> read_markers(const Object &patched);

// ---- compare.cpp: what changed.
enum class Status { Same, Changed, New };
struct Comparison {
    std::unordered_map<const Symbol *, Status> status;        // patched functions and data
    Aliases aliases;                                          // of the patched object
    std::vector<const Symbol *> changed_functions;            // in patched-object order
    std::vector<const Symbol *> new_functions;
    // New global variables in ordinary data sections: another object of the patch may use
    // them, so the output carries them even when nothing here refers to them.
    std::vector<const Symbol *> new_globals;
    std::vector<std::string> line_shift_only;
    std::vector<std::string> ignored;   // changed, but covered by Markers: counted as the same
    std::vector<Refusal> refusals;

    Status of(const Symbol *patched) const;
};
Comparison compare(const Correlation &corr, CodeIndex &code_o, CodeIndex &code_p,
                   const SpecialLayout &special_o, const SpecialLayout &special_p,
                   LineTables &lines, const Markers &markers = {});
// What the markers did: warnings for what compare() ignored, for unsafe functions, and for
// entries that name nothing.
struct MarkerReport {
    std::vector<std::string> warnings;
    std::vector<std::string> ignored;   // changed, but kept as the kernel has them
    std::vector<std::string> unsafe;    // replaced without the stack check
};
MarkerReport report_markers(const Markers &markers, const Object &patched, const Comparison &cmp);

// ---- layout.cpp: types whose layout changed under code that is replaced (DWARF).
// Nothing to check when no function changed.
struct Layouts {
    std::vector<Refusal> refusals;
    std::vector<std::string> warnings;   // what could not be checked (no DWARF)
    std::set<std::string> reached;       // keys ("enum mode", "struct foo") of the named types
                                         // the changed functions reach
};
Layouts check_layouts(const Comparison &cmp, CodeIndex &code_p, DebugInfo &orig, DebugInfo &patched);
// The functions with code in the object whose DWARF (subprogram tree, inlined callees)
// reaches each of the named types `keys`, by key; C names, in DWARF order.
std::map<std::string, std::vector<std::string>> functions_reaching(DebugInfo &debug,
                                                                   const std::set<std::string> &keys);

// ---- enums.cpp: enumerators of the unit whose value changed, used as plain constants.
// Enums in `reached` are left to check_layouts.
std::vector<Refusal> check_enum_values(const Comparison &cmp, DebugInfo &orig, DebugInfo &patched,
                                       const std::set<std::string> &reached);

// ---- reviewed.cpp: the KPATCH_REVIEWED escape hatch (section .kpatch.reviewed).
constexpr std::string_view reviewed_section = ".kpatch.reviewed";
// The C name a patch author writes for a symbol: `foo` for foo.constprop.0 or count.3.
std::string source_name(std::string_view symbol);
// The entries of the patched object's .kpatch.reviewed; an Error when it is malformed.
Expected<std::vector<Reviewed>> read_reviewed(const Object &patched);
// What the entries make of the refusals: a refusal whose subjects are all reviewed is
// waived (a warning, and a line in each entry's `waived` list); the others stand.
struct Waivers {
    std::vector<std::string> standing;     // texts of the refusals no review waives
    std::vector<std::string> warnings;     // one per waived refusal, one per entry that waived nothing
    std::vector<Reviewed> reviewed;        // every entry, with what it waived
    std::vector<const Symbol *> dropped;   // changed functions a waiver leaves out (Refusal::dropped)
};
Waivers apply_reviews(const std::vector<Refusal> &refusals, std::vector<Reviewed> entries);
// The comparison the later passes work from: `cmp` with the `dropped` functions (and their
// other names) counted as the same as the kernel's.
Comparison without_dropped(const Comparison &cmp, const std::vector<const Symbol *> &dropped);

// ---- constants.cpp: read-only constants the patch carries its own copy of (the rule is there).
struct PrivateConstants {
    std::unordered_set<const Symbol *> symbols;   // patched symbols; copied, never the kernel's
};
PrivateConstants private_constants(const Correlation &corr, const CodeIndex &orig, const CodeIndex &patched);

// ---- include.cpp: what the output carries, and how it refers to everything else.
struct Inclusion {
    std::unordered_set<const Section *> copied;          // patched sections copied whole
    std::unordered_set<const Symbol *> emitted;          // patched symbols defined in the output
    std::vector<const Symbol *> new_data;
    std::vector<std::string> refusals;
};
Inclusion include(const Correlation &corr, const Comparison &cmp, CodeIndex &code_p,
                  const SpecialLayout &special_p, const PrivateConstants &constants);

// ---- hooks.cpp: the patch's hook sections (kpatch-patch.h), copied whole: include()'s
// last step, after its refusals and new data are settled (hooks point only at new functions).
bool is_hook_section(std::string_view name);
void include_hooks(CodeIndex &code_p, Inclusion &inc);

// ---- output.cpp (+ klp.cpp): the patch object.
struct OutputContext {
    const Object &orig;
    const Object &patched;
    const Correlation &corr;
    const Comparison &cmp;
    const Inclusion &inc;
    const SpecialLayout &special_p;
    CodeIndex &code_p;
    const Options &options;
    std::vector<std::string> orig_defined;   // names the original defines (for positions)
    const SpecialLayout *special_o = nullptr; // set: .kpatch.funcs entries carry verification data
    const Markers *markers = nullptr;         // set: KPATCH_FORCE_UNSAFE sets entry flags
};
// What build_output() makes: the patch object, and what the result reports about it.
struct Output {
    std::unique_ptr<Object> object;
    std::vector<ChangedFunction> changed;   // with positions, cold parts and aliases
    std::vector<std::string> new_functions;
    std::vector<std::string> new_data;
    std::vector<KlpReference> klp;
    std::vector<std::string> undefined;     // exported kernel symbols left undefined
    std::vector<std::string> from_patch;    // left undefined: another object of the patch defines them
    std::map<std::string, size_t> special_entries;
    std::vector<std::string> warnings;
    std::vector<std::string> refusals;      // a module's symbol in a section applied at load
};
Expected<Output> build_output(const OutputContext &ctx);

// ---- verify.cpp: what the core compares with the running code of a replaced function.
struct FunctionCheck {
    std::vector<uint8_t> bytes;   // the original's first bytes (all of them, unless a jump
    std::vector<uint8_t> mask;    // the kernel's assembler may shorten comes first); 0 = ignore
    bool padded = false;          // whole, and 16-byte aligned: padding follows it
};
Expected<FunctionCheck> function_check(const Symbol &orig_func, const arch::Arch &arch,
                                       const SpecialLayout &special_o);

// klp.cpp: the placeholder symbol for a kernel symbol reached through .klp.rela.
std::string klp_symbol_name(const std::string &object, const std::string &name, unsigned long pos);
// The section naming the module that owns sections referring to other modules' symbols
// (output.cpp writes it, kpatch-klp-convert reads it).
constexpr std::string_view klp_owner_section = ".kpatch.klp_owner";

} // namespace kpatch::diff
