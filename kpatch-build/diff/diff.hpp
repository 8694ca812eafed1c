// The object differ's public interface: configuration, symbol knowledge, results (licence: GPL-2.0-only).
//
// run_diff() (pipeline.cpp) takes two parsed objects and returns a DiffResult: an output
// object, or a refusal with reasons, or "nothing changed"; the manifest is built from the
// same result. The library never prints; warnings are part of the result (DiffResult::warnings).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <kpatch/expected.hpp>

#include "elf/object.hpp"

namespace kpatch::diff {

// What the differ needs to know about the target kernel. kpatch::symbols implements it in
// the program; tests implement it directly.
class SymbolResolver {
public:
    virtual ~SymbolResolver() = default;
    // The kernel `sympos` of `name` (0 when unique). `object_symbols`: the names the
    // original object defines, which tell its copy of a duplicated local name.
    virtual Expected<unsigned long> position(std::string_view name, bool is_local,
                                             const std::vector<std::string> &object_symbols) const = 0;
    // Whether anything is known about the kernel's exports (a Module.symvers was read).
    // When not, every kernel symbol is reached through a .klp.sym placeholder.
    virtual bool knows_exports() const = 0;
    // Whether the kernel (or a module the patch may call) exports `name`; false for every
    // vmlinux name when !knows_exports().
    virtual bool is_exported(std::string_view name) const = 0;

    // For an object of a module (Options::klp_object is not "vmlinux"):
    // Who exports `name`: "vmlinux", a module name, or "" when nobody (or unknown).
    virtual std::string exporter(std::string_view) const { return {}; }
    // Whether the module itself (its .ko, any of its objects) defines `name`.
    virtual bool module_defines(std::string_view) const { return false; }
    // The livepatch `sympos` of `name` among the module's own symbols (symbol-table order,
    // as the kernel counts them for `.klp.sym.<module>.`); 0 when unique or unknown.
    virtual Expected<unsigned long> module_position(std::string_view, bool,
                                                    const std::vector<std::string> &) const
    {
        return 0ul;
    }
};

// Sizes of one entry of each special section, by section name: overrides of what the
// differ finds itself (entry_size.cpp: sh_entsize, DWARF, relocation stride, 6.1 default).
using EntrySizes = std::map<std::string, unsigned, std::less<>>;
// kpatch-build's environment names for those sizes: {variable, section}, e.g.
// {"BUG_STRUCT_SIZE", "__bug_table"}.
std::vector<std::pair<std::string, std::string>> entry_size_variables();
// Reads a JSON object {section: bytes} (kpatch-build's --entry-sizes file); an error names
// the file and the member that is not a size.
Expected<EntrySizes> read_entry_sizes(const std::string &path);

struct Options {
    std::string object_path;          // e.g. fs/proc/cmdline.o, for messages and positions
    std::string klp_object = "vmlinux";
    EntrySizes entry_sizes;           // overrides, e.g. from BUG_STRUCT_SIZE
    EntrySizes kernel_entry_sizes;    // measured in the kernel tree's headers (--entry-sizes)
    const SymbolResolver *symbols = nullptr; // null: positions 0, nothing known as exported
    // Names that other objects of the same patch define (their new global functions and
    // data; kpatch-build collects them before it runs the differ on any object). A
    // reference to one stays a plain undefined symbol, which the module link resolves
    // inside the patch module: the kernel does not have it.
    std::set<std::string, std::less<>> patch_symbols;
};

enum class Outcome { Changed = 0, Refused = 2, Unchanged = 3 };

struct ChangedFunction {
    std::string name;        // in the patched object (and the output)
    std::string old_name;    // in the kernel
    std::string object = "vmlinux";  // the livepatch object holding it: vmlinux or a module
    unsigned long sympos = 0;
    uint64_t old_size = 0;
    uint64_t new_size = 0;
    // The split-off parts (GCC's "<name>.cold", "<name>.cold.N" before GCC 10); empty when
    // that version has none.
    std::string old_cold;    // in the kernel, at old_cold_sympos among same-named symbols
    unsigned long old_cold_sympos = 0;
    std::string new_cold;    // in the output
    // The function's other names in the kernel (same address: __alias, SyS_/sys_); the
    // entry replaces it once, under `old_name` (the rule is in aliases.cpp).
    std::vector<std::string> old_aliases;
};

struct KlpReference {
    std::string section;     // output section the relocation applies to
    uint64_t offset = 0;
    std::string type;
    std::string symbol;      // kernel name
    unsigned long sympos = 0;
    int64_t addend = 0;
    std::string object = "vmlinux";  // where the symbol lives: vmlinux or a module
};

// A KPATCH_REVIEWED(function, reason) entry of the patch, and the refusals it turned into
// warnings (their texts).
struct Reviewed {
    std::string function;
    std::string reason;
    std::vector<std::string> waived;
};

struct DiffResult {
    Outcome outcome = Outcome::Unchanged;
    std::unique_ptr<elf::Object> output;       // set when outcome == Changed
    std::vector<ChangedFunction> changed;
    std::vector<std::string> new_functions;
    std::vector<std::string> new_data;
    std::vector<std::string> line_shift_only;  // differed only in line numbers: not changed
    std::vector<KlpReference> klp;
    std::vector<std::string> undefined;        // exported kernel symbols left undefined
    std::vector<std::string> from_patch;       // left undefined: another object of the patch defines them
    std::vector<std::string> ignored;          // changed, but kept as the kernel has them (KPATCH_IGNORE_*)
    std::vector<std::string> unsafe;           // replaced without the stack check (KPATCH_FORCE_UNSAFE)
    std::map<std::string, size_t> special_entries;  // kept entries per special section
    // Entry size of each special section of the patched object and where it came from
    // ("16 bytes, from the object's DWARF (struct bug_entry)"), or why it has none.
    std::map<std::string, std::string> entry_sizes;
    std::vector<std::string> refusals;
    std::vector<std::string> warnings;
    std::vector<Reviewed> reviewed;            // every entry of .kpatch.reviewed
};

// Errors (malformed or mismatched input) are Errors; refusals are a DiffResult.
Expected<DiffResult> run_diff(const elf::Object &original, const elf::Object &patched,
                              const Options &options);

// The --json manifest of a result.
std::string manifest_json(const DiffResult &result, const Options &options, bool pretty);

} // namespace kpatch::diff
