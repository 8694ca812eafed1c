// Before any differ run: what the patch's objects define for each other (licence:
// GPL-2.0-only).
#pragma once

#include <set>
#include <string>
#include <vector>

#include <kpatch/expected.hpp>

#include "build_objects.hpp"

namespace kpatch::driver {

// The global functions and variables that the patched object of `pair` defines and its
// original does not: what the differ puts into the patch module as new code or new data,
// and what another object of the same patch may call or read. (__init/__exit code and
// per-CPU or special-section data are left out: the differ does not carry them.)
Expected<std::vector<std::string>> new_globals(const ObjectPair &pair);

// new_globals() of every pair, together. The differ is told these names so that a
// reference from one object to another's new function is linked inside the module
// instead of being looked up in the kernel, which does not have it.
Expected<std::set<std::string>> patch_symbols(const std::vector<ObjectPair> &pairs);

} // namespace kpatch::driver
