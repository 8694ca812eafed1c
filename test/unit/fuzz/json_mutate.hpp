// JSON documents we did not write, broken on purpose: type swaps, missing keys, huge values (licence: GPL-2.0-only).
#pragma once

#include "rng.hpp"

#include <string>

namespace kpatch::fuzz {

// A mutation of the JSON text TEXT (a manifest or kpatchd's record); appends what it did to WHAT.
// Structural edits (a node's type swapped, a key removed or added, an array grown, a string
// made huge or odd) and then, sometimes, text edits (invalid UTF-8, deep nesting, a cut, a NUL).
std::string mutate_json(const std::string &text, Rng &rng, std::string &what);

} // namespace kpatch::fuzz
