// Walking a unit's top level and reading enumerators, for the passes that read DWARF (licence: GPL-2.0-only).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <dwarf.h>
#include <elfutils/libdw.h>

namespace kpatch::diff {

// Calls `visit(Dwarf_Die *)` for each DIE directly under a unit DIE of `dw` (types,
// variables, functions defined at file scope), unit after unit.
template <typename Visit>
void for_each_top_level_die(Dwarf *dw, Visit &&visit)
{
    Dwarf_CU *cu = nullptr;
    Dwarf_Die cudie, d;
    uint8_t unit_type;
    Dwarf_Half version;
    while (dwarf_get_units(dw, cu, &cu, &version, &unit_type, &cudie, nullptr) == 0) {
        if (dwarf_child(&cudie, &d) != 0)
            continue;
        do
            visit(&d);
        while (dwarf_siblingof(&d, &d) == 0);
    }
}

struct Enumerator {
    std::string name;
    int64_t value = 0;
};

// The enumerators of DW_TAG_enumeration_type `e`, in declaration order.
std::vector<Enumerator> enumerators_of(Dwarf_Die *e);

} // namespace kpatch::diff
