// Small text helpers shared by the symbol-table parsers (licence: GPL-2.0-only).
#include "text_io.hpp"

namespace kpatch::symbols::detail {

std::string_view next_field(std::string_view &rest)
{
    size_t start = rest.find_first_not_of(" \t\r");
    if (start == std::string_view::npos) {
        rest = {};
        return {};
    }
    rest.remove_prefix(start);
    size_t end = rest.find_first_of(" \t\r");
    std::string_view field = rest.substr(0, end);
    rest.remove_prefix(end == std::string_view::npos ? rest.size() : end);
    return field;
}

} // namespace kpatch::symbols::detail
