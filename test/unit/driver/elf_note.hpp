// One ELF note record (namesz, descsz, type, name, desc, each padded to 4), for tests that
// read build ids from notes (licence: GPL-2.0-only).
#pragma once

#include <cstdint>
#include <cstring>
#include <string>

inline std::string elf_note(uint32_t type, std::string name, std::string desc)
{
    std::string out(12, '\0');
    uint32_t h[3] = {static_cast<uint32_t>(name.size()), static_cast<uint32_t>(desc.size()), type};
    std::memcpy(out.data(), h, 12);
    auto pad = [](std::string s) { s.resize((s.size() + 3) & ~size_t(3), '\0'); return s; };
    return out + pad(std::move(name)) + pad(std::move(desc));
}
