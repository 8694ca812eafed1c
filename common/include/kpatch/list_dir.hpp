// A directory's entries as an Expected, without the exceptions of directory_iterator (licence: GPL-2.0-only).
//
// A range-for over std::filesystem::directory_iterator(dir, ec) still throws from its
// increment when reading the directory fails half way (EIO, a directory removed under us),
// and directory_entry::is_directory() without an error_code throws too. Every listing of a
// directory others may change goes through here.
#pragma once

#include <kpatch/expected.hpp>

#include <filesystem>
#include <system_error>
#include <vector>

namespace kpatch {

inline Expected<std::vector<std::filesystem::directory_entry>> list_dir(const std::filesystem::path &dir)
{
    namespace fs = std::filesystem;
    std::vector<fs::directory_entry> out;
    std::error_code ec;
    fs::directory_iterator it(dir, ec);
    for (; !ec && it != fs::directory_iterator(); it.increment(ec))
        out.push_back(*it);
    if (ec)
        return Error{"cannot list " + dir.string() + ": " + ec.message()};
    return out;
}

// True when ENTRY is a directory (symlinks to one are not followed); false on any error.
inline bool is_real_dir(const std::filesystem::directory_entry &entry)
{
    std::error_code ec;
    return entry.is_directory(ec) && !entry.is_symlink(ec);
}

} // namespace kpatch
