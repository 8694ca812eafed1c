// An enumeration type's enumerators as DWARF gives them, for the passes that read DWARF (licence: GPL-2.0-only).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <elfutils/libdw.h>

namespace kpatch::diff {

struct Enumerator {
    std::string name;
    int64_t value = 0;
};

// The enumerators of DW_TAG_enumeration_type `e`, in declaration order.
std::vector<Enumerator> enumerators_of(Dwarf_Die *e);

} // namespace kpatch::diff
