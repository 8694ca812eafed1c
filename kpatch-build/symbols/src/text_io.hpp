// Small text helpers shared by the symbol-table parsers (licence: GPL-2.0-only).
#pragma once

#include <string>
#include <string_view>

#include <kpatch/read_file.hpp>  // read_file: the whole file, or an error naming it

namespace kpatch::symbols::detail {

// Calls fn(line) for each line of `text`, without the newline.
template <typename Fn>
void for_each_line(std::string_view text, Fn &&fn)
{
    while (!text.empty()) {
        size_t end = text.find('\n');
        std::string_view line = text.substr(0, end);
        fn(line);
        if (end == std::string_view::npos)
            break;
        text.remove_prefix(end + 1);
    }
}

// Splits off the next whitespace-separated field; empty when none is left.
std::string_view next_field(std::string_view &rest);

} // namespace kpatch::symbols::detail
