// An enum's names for JSON and text output, in one table per enum (licence: GPL-2.0-only).
//
// States that reach users or files (a check's "pass"/"fail"/"skip", a boot item's "failed")
// are enums in code, compared as enums; the words exist once, in the enum's table, and
// both directions go through it: to_name for output, from_name for what is read back.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

namespace kpatch {

template <typename E>
struct EnumName {
    E value;
    std::string_view name;
};

template <typename E, size_t N>
constexpr std::string_view to_name(const EnumName<E> (&table)[N], E value)
{
    for (const auto &e : table)
        if (e.value == value)
            return e.name;
    return "?";
}

template <typename E, size_t N>
constexpr std::optional<E> from_name(const EnumName<E> (&table)[N], std::string_view name)
{
    for (const auto &e : table)
        if (e.name == name)
            return e.value;
    return std::nullopt;
}

} // namespace kpatch
