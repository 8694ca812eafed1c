// Parsers for the text forms of a kernel symbol table: /proc/kallsyms and
// `readelf -s --wide` (licence: GPL-2.0-only).
#include <kpatch/symbols/kernel_symbols.hpp>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <fstream>

#include "text_io.hpp"

namespace kpatch::symbols {

using detail::for_each_line;
using detail::next_field;

namespace {

bool parse_hex(std::string_view s, uint64_t &out)
{
    if (s.starts_with("0x"))
        s.remove_prefix(2);
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out, 16);
    return ec == std::errc() && ptr == s.data() + s.size() && !s.empty();
}

Error line_error(const std::string &origin, size_t lineno, const std::string &what)
{
    return make_error(what).in(origin + ":" + std::to_string(lineno));
}

// readelf's TYPE/BIND/Ndx columns as an nm letter. Without section flags the data
// letter is always d/D; only locality and text-ness matter to positions.
char readelf_letter(std::string_view type, std::string_view bind)
{
    char c = type == "FUNC" || type == "GNU_IFUNC" ? 't' : 'd';
    if (bind == "WEAK")
        return c == 't' ? 'W' : 'V';
    return bind == "LOCAL" ? c : static_cast<char>(c - 'a' + 'A');
}

} // namespace

Expected<KernelSymbols> KernelSymbols::parse_kallsyms(std::string_view text,
                                                      const std::string &origin)
{
    KernelSymbols table;
    table.kind_ = SourceKind::Kallsyms;
    table.origin_ = origin;
    size_t lineno = 0;
    std::optional<Error> failure;
    for_each_line(text, [&](std::string_view line) {
        ++lineno;
        if (failure)
            return;
        std::string_view rest = line;
        std::string_view addr = next_field(rest);
        if (addr.empty())
            return;
        std::string_view type = next_field(rest);
        std::string_view name = next_field(rest);
        Symbol sym;
        if (!parse_hex(addr, sym.address) || type.size() != 1 || name.empty()) {
            failure = line_error(origin, lineno,
                                 "not a kallsyms line (\"ADDRESS TYPE NAME [MODULE]\"): \"" +
                                     std::string(line.substr(0, 80)) + "\"");
            return;
        }
        // Symbols of modules (and of bpf/ftrace trampolines) carry a [owner]; the patch
        // targets vmlinux only.
        if (!next_field(rest).empty())
            return;
        sym.type = type[0];
        sym.name = std::string(name);
        table.symbols_.push_back(std::move(sym));
    });
    if (failure)
        return *failure;
    if (table.symbols_.empty())
        return make_error("no vmlinux symbols in the table").in(origin);
    // /proc/kallsyms already lists in the kernel's own order (also when kptr_restrict
    // prints every address as 0), so the order is kept as read.
    table.index();
    return table;
}

Expected<KernelSymbols> KernelSymbols::parse_readelf(std::string_view text,
                                                     const std::string &origin)
{
    KernelSymbols table;
    table.kind_ = SourceKind::Readelf;
    table.origin_ = origin;
    // Only the static symbol table: a vmlinux has no .dynsym, an object neither, but a
    // second table would repeat names and spoil positions.
    enum { Before, InSymtab, After } state = Before;
    size_t lineno = 0;
    for_each_line(text, [&](std::string_view line) {
        ++lineno;
        if (line.starts_with("Symbol table ")) {
            bool symtab = line.find("'.symtab'") != std::string_view::npos;
            state = state == Before && (symtab || table.symbols_.empty()) ? InSymtab : After;
            return;
        }
        if (state != InSymtab)
            return;
        std::string_view rest = line;
        std::string_view num = next_field(rest);
        if (num.empty() || num.back() != ':')
            return; // the column header or a blank line
        std::string_view value = next_field(rest);
        next_field(rest); // size
        std::string_view type = next_field(rest);
        std::string_view bind = next_field(rest);
        next_field(rest); // visibility
        std::string_view ndx = next_field(rest);
        std::string_view name = next_field(rest);
        if (name.empty() || ndx == "UND" || type == "SECTION" || type == "FILE")
            return;
        Symbol sym;
        if (!parse_hex(value, sym.address))
            return;
        // readelf -W may print "name@VERSION" for versioned symbols; kernels have none.
        sym.type = readelf_letter(type, bind);
        sym.name = std::string(name);
        table.symbols_.push_back(std::move(sym));
    });
    if (state == Before)
        return make_error("no \"Symbol table\" in this text: is it `readelf -s --wide` output?")
            .in(origin);
    if (table.symbols_.empty())
        return make_error("the symbol table has no defined symbols").in(origin);
    std::stable_sort(table.symbols_.begin(), table.symbols_.end(),
                     [](const Symbol &a, const Symbol &b) { return a.address < b.address; });
    table.index();
    return table;
}

Expected<KernelSymbols> KernelSymbols::from_kallsyms(const std::string &path)
{
    auto text = read_file(path);
    if (!text)
        return text.error();
    return parse_kallsyms(*text, path);
}

Expected<KernelSymbols> KernelSymbols::from_readelf(const std::string &path)
{
    auto text = read_file(path);
    if (!text)
        return text.error();
    return parse_readelf(*text, path);
}

Expected<KernelSymbols> KernelSymbols::load(const std::string &path)
{
    // Only the first bytes decide; a -dbg vmlinux is hundreds of megabytes and libelf
    // maps it rather than reading it whole.
    std::ifstream in(path, std::ios::binary);
    char magic[4] = {};
    if (!in)
        return make_error("cannot open the symbol table").in(path);
    in.read(magic, sizeof magic);
    if (in.gcount() == 4 && std::memcmp(magic, "\x7f" "ELF", 4) == 0)
        return from_vmlinux(path);
    in.close();
    auto text = read_file(path);
    if (!text)
        return text.error();
    std::string_view head = std::string_view(*text).substr(0, 4096);
    if (head.find("Symbol table '") != std::string_view::npos)
        return parse_readelf(*text, path);
    return parse_kallsyms(*text, path);
}

} // namespace kpatch::symbols
