// The target kernel's exported symbols, from Module.symvers (licence: GPL-2.0-only).
#include <kpatch/symbols/kernel_symbols.hpp>

#include <charconv>

#include "text_io.hpp"

namespace kpatch::symbols {

// Format (Linux 5.10+): CRC \t NAME \t MODULE \t EXPORT_TYPE \t NAMESPACE, tab-separated
// so that an empty namespace is an empty last field.
Expected<ExportTable> ExportTable::parse(std::string_view text, const std::string &origin)
{
    ExportTable table;
    size_t lineno = 0;
    std::optional<Error> failure;
    detail::for_each_line(text, [&](std::string_view line) {
        ++lineno;
        if (failure || line.empty())
            return;
        std::string_view field[5];
        size_t n = 0;
        for (std::string_view rest = line; n < 5;) {
            size_t tab = rest.find('\t');
            field[n++] = rest.substr(0, tab);
            if (tab == std::string_view::npos)
                break;
            rest.remove_prefix(tab + 1);
        }
        std::string_view crc = field[0];
        if (crc.starts_with("0x"))
            crc.remove_prefix(2);
        Export e;
        auto [ptr, ec] = std::from_chars(crc.data(), crc.data() + crc.size(), e.crc, 16);
        if (n < 4 || ec != std::errc() || ptr != crc.data() + crc.size() || field[1].empty()) {
            failure = make_error("not a Module.symvers line (\"CRC\\tNAME\\tMODULE\\tTYPE"
                                 "[\\tNAMESPACE]\"): \"" + std::string(line.substr(0, 80)) +
                                 "\"").in(origin + ":" + std::to_string(lineno));
            return;
        }
        e.name = std::string(field[1]);
        e.module = std::string(field[2]);
        e.gpl_only = field[3].ends_with("_GPL");
        e.name_space = n > 4 ? std::string(field[4]) : std::string();
        table.by_name_.emplace(e.name, table.exports_.size());
        table.exports_.push_back(std::move(e));
    });
    if (failure)
        return *failure;
    return table;
}

Expected<ExportTable> ExportTable::load(const std::string &path)
{
    auto text = read_file(path);
    if (!text)
        return text.error();
    return parse(*text, path);
}

const Export *ExportTable::find(std::string_view name) const
{
    auto it = by_name_.find(name);
    return it == by_name_.end() ? nullptr : &exports_[it->second];
}

bool ExportTable::is_exported_by_vmlinux(std::string_view name) const
{
    const Export *e = find(name);
    return e && e->module == "vmlinux";
}

std::string ExportTable::exporter(std::string_view name) const
{
    const Export *e = find(name);
    if (!e)
        return {};
    return module_name_of(e->module);
}

std::string module_name_of(std::string_view path)
{
    // "fs/jbd2/jbd2" -> "jbd2"; kbuild's KBUILD_MODNAME turns '-' into '_'.
    std::string name(path.substr(path.rfind('/') + 1));
    if (name.ends_with(".ko"))
        name.resize(name.size() - 3);
    for (char &c : name)
        if (c == '-')
            c = '_';
    return name;
}

} // namespace kpatch::symbols
