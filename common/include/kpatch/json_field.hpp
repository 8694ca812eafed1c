// Checked reads of JSON we did not write: a value or an Error, never an exception (licence: GPL-2.0-only).
//
// nlohmann's value() and get<>() throw type_error when a key holds another type than asked
// ("sympos": "2", null), and an uncaught exception ends kpatchctl or kpatchd in the middle
// of their work. Every reader of foreign JSON (patch manifests, the install store, kpatchd's
// boot record) goes through json_field / json_items instead; the error names the key and
// the types, and the caller adds the file with Error::in().
#pragma once

#include <kpatch/expected.hpp>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>

namespace kpatch {

namespace json_detail {

inline std::string type_name(const nlohmann::json &j)
{
    if (j.is_number_integer())
        return j.is_number_unsigned() || j.get_ref<const nlohmann::json::number_integer_t &>() >= 0
                   ? "a number" : "a negative number";
    return std::string("a") + (j.is_object() || j.is_array() ? "n " : " ") + j.type_name();
}

inline Error wrong_type(std::string_view key, std::string_view want, const nlohmann::json &j)
{
    return Error{"key \"" + std::string(key) + "\" is " + type_name(j) + ", expected " + std::string(want)};
}

} // namespace json_detail

// OBJ[KEY] as T, or FALLBACK when OBJ has no such key. A key that is present with another
// type (null included) is an error: a corrupt file should be reported, not half-used.
// T: std::string, bool, unsigned long, long, nlohmann::json (any value).
template <typename T>
Expected<T> json_field(const nlohmann::json &obj, std::string_view key, T fallback)
{
    if (!obj.is_object())
        return Error{"expected a JSON object, found " + json_detail::type_name(obj)};
    auto it = obj.find(std::string(key));
    if (it == obj.end())
        return fallback;
    const nlohmann::json &v = *it;
    if constexpr (std::is_same_v<T, nlohmann::json>) {
        return v;
    } else if constexpr (std::is_same_v<T, std::string>) {
        if (!v.is_string())
            return json_detail::wrong_type(key, "a string", v);
        return v.get_ref<const std::string &>();
    } else if constexpr (std::is_same_v<T, bool>) {
        if (!v.is_boolean())
            return json_detail::wrong_type(key, "true or false", v);
        return v.get<bool>();
    } else if constexpr (std::is_same_v<T, unsigned long>) {
        if (v.is_number_unsigned())
            return static_cast<unsigned long>(v.get<std::uint64_t>());
        if (v.is_number_integer() && v.get<std::int64_t>() >= 0)
            return static_cast<unsigned long>(v.get<std::int64_t>());
        return json_detail::wrong_type(key, "a number from 0", v);
    } else if constexpr (std::is_same_v<T, long>) {
        if (v.is_number_unsigned() && v.get<std::uint64_t>() > static_cast<std::uint64_t>(INT64_MAX))
            return json_detail::wrong_type(key, "a smaller number", v);
        if (!v.is_number_integer())
            return json_detail::wrong_type(key, "a whole number", v);
        return static_cast<long>(v.get<std::int64_t>());
    } else {
        static_assert(!sizeof(T *), "json_field: unsupported type");
    }
}

// Reads several fields of one object, keeping the first error: each field keeps its current
// value when its key is absent.  JsonFields in(obj); in.take("name", r.name).take(...);
// if (!in.ok()) return in.error();
class JsonFields {
public:
    explicit JsonFields(const nlohmann::json &obj) : obj_(obj) {}
    template <typename T>
    JsonFields &take(std::string_view key, T &field)
    {
        if (error_.message.empty()) {
            auto v = json_field<T>(obj_, key, field);
            if (v)
                field = std::move(*v);
            else
                error_ = v.error();
        }
        return *this;
    }
    bool ok() const { return error_.message.empty(); }
    const Error &error() const { return error_; }

private:
    const nlohmann::json &obj_;
    Error error_;
};

// OBJ[KEY] as an array (empty when absent); an error when it is anything else.
inline Expected<nlohmann::json> json_items(const nlohmann::json &obj, std::string_view key)
{
    auto v = json_field<nlohmann::json>(obj, key, nlohmann::json::array());
    if (v && !v->is_array())
        return json_detail::wrong_type(key, "an array", *v);
    return v;
}

// Parses TEXT as one JSON object; an error (never an exception) for anything else.
inline Expected<nlohmann::json> parse_json_object(std::string_view text)
{
    nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
    if (j.is_discarded())
        return Error{"not valid JSON"};
    if (!j.is_object())
        return Error{"expected a JSON object, found " + json_detail::type_name(j)};
    return j;
}

} // namespace kpatch
