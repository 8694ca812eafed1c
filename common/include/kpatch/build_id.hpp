// The GNU build id in a run of ELF notes, as lowercase hex (licence: GPL-2.0-only).
//
// One parser for both places that read it: kpatch-build (the SHT_NOTE sections of the
// target's vmlinux) and the loader (/sys/kernel/notes of the running kernel). The two must
// agree byte for byte, or a module is refused as built for another kernel.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace kpatch {

inline constexpr uint32_t kNoteGnuBuildId = 3;  // NT_GNU_BUILD_ID

// NOTES: note records in host byte order (namesz, descsz, type, name, desc), each name and
// desc padded to ALIGN (4, or 8 in a section aligned to 8). "" when no GNU build id is there.
inline std::string find_gnu_build_id(std::string_view notes, size_t align = 4)
{
    auto pad = [align](size_t n) { return (n + align - 1) & ~(align - 1); };
    for (size_t off = 0; off + 12 <= notes.size();) {
        uint32_t namesz, descsz, type;
        std::memcpy(&namesz, notes.data() + off, 4);
        std::memcpy(&descsz, notes.data() + off + 4, 4);
        std::memcpy(&type, notes.data() + off + 8, 4);
        size_t name_off = off + 12, desc_off = name_off + pad(namesz);
        if (desc_off > notes.size() || descsz > notes.size() - desc_off)
            break;
        if (type == kNoteGnuBuildId && namesz == 4 && notes.substr(name_off, 4) == std::string_view("GNU\0", 4)) {
            static const char digits[] = "0123456789abcdef";
            std::string hex;
            for (size_t i = 0; i < descsz; ++i) {
                auto b = static_cast<unsigned char>(notes[desc_off + i]);
                hex += digits[b >> 4];
                hex += digits[b & 15];
            }
            return hex;
        }
        off = desc_off + pad(descsz);
    }
    return {};
}

} // namespace kpatch
