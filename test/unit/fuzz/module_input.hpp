// Mutated patch modules for the loader fuzzer (licence: GPL-2.0-only).
#pragma once

#include "rng.hpp"

#include <string>
#include <utility>
#include <vector>

namespace kpatch::fuzz {

// The compiled unit-test fixture modules (test/unit/loader/fixtures), by file name.
using Fixtures = std::vector<std::pair<std::string, std::string>>;

// A valid patch module made here (modinfo, this_module, manifest), for kernel RELEASE.
std::string synthetic_module(const std::string &name, const std::string &release);

// A patch module broken in one to three ways: a fixture or a synthetic module, with raw ELF
// damage or with its modinfo, this_module or manifest contents changed before it is written.
std::string mutated_module(const Fixtures &fixtures, const std::string &release, Rng &rng, std::string &what);

} // namespace kpatch::fuzz
