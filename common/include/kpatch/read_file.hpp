// Reads a whole file into a string, as an Expected (licence: GPL-2.0-only).
// Shared by the symbol-table parsers and the kpatch-build driver.
#pragma once

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

#include <kpatch/expected.hpp>

namespace kpatch {

inline Expected<std::string> read_file(const std::string &path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in)
        return make_error(std::string("cannot open: ") + std::strerror(errno)).in(path);
    std::ostringstream buf;
    buf << in.rdbuf();
    if (in.bad())
        return make_error(std::string("cannot read: ") + std::strerror(errno)).in(path);
    return buf.str();
}

} // namespace kpatch
