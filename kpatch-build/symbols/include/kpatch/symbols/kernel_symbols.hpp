// The target kernel's symbol table and export list, and which copy of a duplicated local
// name an object owns (licence: GPL-2.0-only).
//
// Sources, in the order DESIGN.md prefers them: the target's /proc/kallsyms (every symbol,
// address order), an unstripped vmlinux (e.g. from the -dbg package), or the text that
// `readelf -s --wide` prints for one (kpatch's SYMTAB argument). Only vmlinux symbols are
// kept: kallsyms lines carrying a [module] are skipped.
//
// Positions follow the kernel's livepatch `sympos` rule: 1-based among same-named symbols
// in kallsyms (address) order; 0 means "the name is unique".
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <kpatch/expected.hpp>

namespace kpatch::symbols {

// Lets the name indexes be searched with a string_view without building a string.
struct NameHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
template <typename V>
using NameMap = std::unordered_map<std::string, V, NameHash, std::equal_to<>>;

struct Symbol {
    uint64_t address = 0;
    char type = '?';        // nm/kallsyms letter: lower case = local (t, d, b, r ...)
    std::string name;
    uint64_t size = 0;      // st_size from an ELF symbol table; 0 when the source has none

    bool is_local() const { return type >= 'a' && type <= 'z'; }
    bool is_text() const { return type == 't' || type == 'T' || type == 'w' || type == 'W'; }
};

enum class SourceKind { Kallsyms, Vmlinux, Readelf, Module };

class KernelSymbols {
public:
    // Reads a file, telling the form from its content (ELF magic, readelf's
    // "Symbol table" header, or kallsyms lines).
    static Expected<KernelSymbols> load(const std::string &path);
    static Expected<KernelSymbols> from_kallsyms(const std::string &path);
    static Expected<KernelSymbols> from_vmlinux(const std::string &path);
    // A module's own symbols from its .ko, as the 6.1 module loader keeps them for
    // kallsyms (and livepatch positions): in symbol-table order, init sections left out.
    static Expected<KernelSymbols> from_module(const std::string &path);
    // The same for one object file of a module (before linking): what it will bring to
    // the module's kallsyms. Unlike a .ko, an object may have no such symbol at all.
    static Expected<KernelSymbols> from_module_object(const std::string &path);
    static Expected<KernelSymbols> from_readelf(const std::string &path);
    // The same parsers over text already in memory (tests, pipes). `origin` names the
    // source in error messages.
    static Expected<KernelSymbols> parse_kallsyms(std::string_view text,
                                                  const std::string &origin = "kallsyms");
    static Expected<KernelSymbols> parse_readelf(std::string_view text,
                                                 const std::string &origin = "readelf");

    SourceKind kind() const { return kind_; }
    const std::string &origin() const { return origin_; }
    // Symbols in kallsyms order (by address; ties keep the order of the source).
    const std::vector<Symbol> &symbols() const { return symbols_; }

    bool contains(std::string_view name) const { return count(name) != 0; }
    size_t count(std::string_view name) const;
    bool is_unique(std::string_view name) const { return count(name) == 1; }
    // Indices into symbols() of every symbol named `name`, in kallsyms order.
    const std::vector<size_t> &occurrences(std::string_view name) const;

    // Position (kernel `sympos`) for the symbol `name` defined by one object, whose
    // defined symbols (local and global, functions and data; any order) are
    // `object_symbols`. 0 when the name is unique in the kernel. When it is not, the copy
    // whose neighbourhood in kallsyms order holds the longest run of the object's own
    // symbols is the object's (a distro kernel is linked without -ffunction-sections,
    // so one object's functions, and its data, sit together). Errors: name absent;
    // two copies equally plausible (ambiguous).
    Expected<unsigned long> position(std::string_view name,
                                     const std::vector<std::string> &object_symbols,
                                     std::string_view object_path = {}) const;

private:
    enum class ElfKind { Vmlinux, Module, ModuleObject };
    static Expected<KernelSymbols> read_elf(const std::string &path, ElfKind kind);
    void index();

    SourceKind kind_ = SourceKind::Kallsyms;
    std::string origin_;
    std::vector<Symbol> symbols_;
    NameMap<std::vector<size_t>> by_name_;
};

// The same question when the caller may have no table at all: with a table it is
// KernelSymbols::position; without one, an error saying that --kallsyms or --vmlinux is
// needed to tell which copy of a local name is meant. Global names need no table (0).
Expected<unsigned long> resolve_position(const KernelSymbols *table, std::string_view name,
                                         bool is_local,
                                         const std::vector<std::string> &object_symbols,
                                         std::string_view object_path = {});

// One line of Module.symvers.
struct Export {
    uint32_t crc = 0;
    std::string name;
    std::string module;     // "vmlinux" or a module path such as "fs/fat/fat"
    bool gpl_only = false;
    std::string name_space; // EXPORT_SYMBOL_NS namespace, empty when none
};

// A module's name as the kernel knows it (/proc/modules, `.klp.sym.<module>.`) from a
// Module.symvers module path or a .ko path: "fs/jbd2/jbd2" -> "jbd2", "nf-x.ko" -> "nf_x".
std::string module_name_of(std::string_view path);

// What the target kernel exports (Module.symvers of its headers package).
class ExportTable {
public:
    static Expected<ExportTable> load(const std::string &path);
    static Expected<ExportTable> parse(std::string_view text,
                                       const std::string &origin = "Module.symvers");

    const Export *find(std::string_view name) const;
    bool is_exported(std::string_view name) const { return find(name) != nullptr; }
    // Exported by vmlinux itself (not by a module).
    bool is_exported_by_vmlinux(std::string_view name) const;
    // Who exports `name`: "vmlinux", a module name as in /proc/modules ("jbd2"), or ""
    // when nobody does.
    std::string exporter(std::string_view name) const;
    size_t size() const { return exports_.size(); }

private:
    std::vector<Export> exports_;
    NameMap<size_t> by_name_;
};

} // namespace kpatch::symbols
