// JSON text for output that may carry bytes from files we did not write (licence: GPL-2.0-only).
//
// nlohmann::json throws on a string that is not valid UTF-8 when it serializes, and symbol
// names, module info strings and file names can be any bytes: a malformed input would
// then end the program with an uncaught exception instead of an error. Invalid bytes
// become U+FFFD here.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace kpatch {

inline std::string json_dump(const nlohmann::json &j, int indent = -1)
{
    return j.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
}

} // namespace kpatch
