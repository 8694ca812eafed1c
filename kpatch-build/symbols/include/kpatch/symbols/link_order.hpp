// Which copy of a name that a module has several times belongs to one of its objects, from
// kbuild's link order (licence: GPL-2.0-only).
//
// Debian's .ko files carry no STT_FILE symbols, so the object a local symbol came from
// cannot be read off the .ko. It need not be: kbuild links a composite module with
// `ld -r @<module>.mod`, the objects in that file's order, and ld writes each input's
// local symbols as one run, inputs in order (the .mod.o's few locals ahead of them); the
// ELF rules put every local symbol before every global one. So the Nth local copy of a
// name in the .ko is the copy of the Nth object, in link order, that defines that name
// locally. Checked on Debian 6.1.0-57's minix.ko, fat.ko and virtio_pci.ko: their
// objects built from the source tree, read in link order, give the .ko's local symbols
// name for name and size for size (doc/sympos.md).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <kpatch/expected.hpp>
#include <kpatch/symbols/kernel_symbols.hpp>

namespace kpatch::symbols {

// One object of a module, as kbuild links it.
struct LinkedObject {
    std::string object;     // tree-relative, e.g. fs/minix/itree_v2.o
    KernelSymbols symbols;  // what it brings to the module's kallsyms (from_module_object)
};

// Reads a list of a module's objects in link order, one "OBJECT<TAB>PATH" line each
// (OBJECT tree-relative as in <module>.mod, PATH a build of it), and their symbols.
Expected<std::vector<LinkedObject>> read_link_order(const std::string &list_file);

// The livepatch position of `name` in module `module_name`, whose own symbols (from its
// .ko) are `module`, for the copy that the object `self` defines; `is_local` says how
// `self` defines it. 0 when the name is unique in the module. A global namesake of local
// copies comes after all of them. Refuses, naming the symbol, the module and the objects
// defining it, when the objects do not account for the .ko's copies one for one (count
// and size), or `self` does not define exactly one local copy.
Expected<unsigned long> link_order_position(const KernelSymbols &module,
                                            std::string_view module_name, std::string_view name,
                                            bool is_local,
                                            const std::vector<LinkedObject> &objects,
                                            std::string_view self);

} // namespace kpatch::symbols
