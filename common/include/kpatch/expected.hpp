// Errors as values for every user-space library of the project (licence: GPL-2.0-only).
// C++20 has no std::expected, so this is the small subset we need: a value or an Error that
// says what failed, where, and what to do. Libraries return these; only main() prints.
#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace kpatch {

struct Error {
    std::string message;
    int code = 0;  // optional category a program maps to an exit code; 0 = plain failure

    // Prefixes context once at a boundary: Error{"bad magic"}.in("fs/proc/cmdline.o").
    Error in(const std::string &where) const & { return Error{where + ": " + message, code}; }
    Error in(const std::string &where) && { return Error{where + ": " + std::move(message), code}; }
};

template <typename T>
class [[nodiscard]] Expected {
public:
    Expected(T value) : state_(std::in_place_index<0>, std::move(value)) {}
    Expected(Error error) : state_(std::in_place_index<1>, std::move(error)) {}

    bool has_value() const { return state_.index() == 0; }
    explicit operator bool() const { return has_value(); }

    T &value() & { assert(has_value()); return std::get<0>(state_); }
    const T &value() const & { assert(has_value()); return std::get<0>(state_); }
    T &&value() && { assert(has_value()); return std::get<0>(std::move(state_)); }
    T &operator*() & { return value(); }
    const T &operator*() const & { return value(); }
    T *operator->() { return &value(); }
    const T *operator->() const { return &value(); }

    const Error &error() const { assert(!has_value()); return std::get<1>(state_); }

private:
    std::variant<T, Error> state_;
};

// Expected<void>: success or an Error.
template <>
class [[nodiscard]] Expected<void> {
public:
    Expected() = default;
    Expected(Error error) : error_(std::move(error)), failed_(true) {}

    bool has_value() const { return !failed_; }
    explicit operator bool() const { return !failed_; }
    const Error &error() const { assert(failed_); return error_; }

private:
    Error error_;
    bool failed_ = false;
};

inline Error make_error(std::string message) { return Error{std::move(message)}; }

} // namespace kpatch
