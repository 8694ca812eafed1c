// kpatch-klp-convert IN.ko OUT.ko: the last step before signing a patch module (licence: GPL-2.0-only).
// Exit codes: 0 converted (or nothing to convert), 1 error.
#include <cstdio>
#include <cstring>
#include <string>

#include "klp/klp_convert.hpp"

int main(int argc, char **argv)
{
    bool verbose = false;
    std::string in, out;
    for (int i = 1; i < argc; i++) {
        std::string a = argv[i];
        if (a == "-h" || a == "--help") {
            std::puts("Usage: kpatch-klp-convert [-v] IN.ko OUT.ko\n"
                      "Moves relocations against .klp.sym.* placeholders into .klp.rela sections.\n"
                      "Exit: 0 done, 1 error.");
            return 0;
        }
        if (a == "-v" || a == "--verbose") {
            verbose = true;
        } else if (in.empty()) {
            in = a;
        } else if (out.empty()) {
            out = a;
        } else {
            std::fprintf(stderr, "kpatch-klp-convert: too many arguments\n");
            return 1;
        }
    }
    if (out.empty()) {
        std::fprintf(stderr, "Usage: kpatch-klp-convert [-v] IN.ko OUT.ko\n");
        return 1;
    }
    auto module = kpatch::elf::read_object(in);
    if (!module) {
        std::fprintf(stderr, "kpatch-klp-convert: %s\n", module.error().message.c_str());
        return 1;
    }
    auto stats = kpatch::klp::convert(**module);
    if (!stats) {
        std::fprintf(stderr, "kpatch-klp-convert: %s: %s\n", in.c_str(), stats.error().message.c_str());
        return 1;
    }
    if (auto w = kpatch::elf::write_object(**module, out); !w) {
        std::fprintf(stderr, "kpatch-klp-convert: %s\n", w.error().message.c_str());
        return 1;
    }
    if (verbose)
        std::fprintf(stderr, "kpatch-klp-convert: %s: %zu symbols, %zu relocations in %zu .klp.rela sections\n",
                     out.c_str(), stats->symbols, stats->relocations, stats->sections);
    return 0;
}
