// Keeping line numbers of unchanged code stable in patched sources (licence:
// GPL-2.0-only).
#include "line_directives.hpp"

#include <cstdio>
#include <sstream>

#include "context.hpp"
#include "process.hpp"

namespace kpatch::driver {

std::vector<Resync> parse_resyncs(const std::string &diff_u0)
{
    std::vector<Resync> out;
    std::istringstream in(diff_u0);
    for (std::string line; std::getline(in, line);) {
        unsigned a = 0, b = 1, c = 0, d = 1;
        if (!line.starts_with("@@ -"))
            continue;
        // "@@ -a[,b] +c[,d] @@"
        const char *p = line.c_str() + 4;
        char *end = nullptr;
        a = static_cast<unsigned>(std::strtoul(p, &end, 10));
        if (*end == ',')
            b = static_cast<unsigned>(std::strtoul(end + 1, &end, 10));
        if (*end != ' ' || end[1] != '+')
            continue;
        c = static_cast<unsigned>(std::strtoul(end + 2, &end, 10));
        if (*end == ',')
            d = static_cast<unsigned>(std::strtoul(end + 1, &end, 10));
        // With a zero count diff names the line *before* the gap.
        unsigned orig_next = b ? a + b : a + 1;
        unsigned patched_next = d ? c + d : c + 1;
        out.push_back({patched_next, orig_next});
    }
    return out;
}

std::string insert_line_directives(const std::string &patched, const std::vector<Resync> &at)
{
    std::vector<std::string> lines;
    std::istringstream in(patched);
    for (std::string line; std::getline(in, line);)
        lines.push_back(line);

    // Where a directive may go: not inside a /* */ comment, not after a backslash.
    std::vector<bool> valid(lines.size() + 2, true);
    bool in_comment = false;
    for (size_t i = 0; i < lines.size(); ++i) {
        bool continued = i > 0 && !lines[i - 1].empty() && lines[i - 1].back() == '\\';
        valid[i + 1] = !in_comment && !continued;
        const std::string &l = lines[i];
        for (size_t k = 0; k + 1 < l.size(); ++k) {
            if (!in_comment && l[k] == '/' && l[k + 1] == '/')
                break;
            if (!in_comment && l[k] == '/' && l[k + 1] == '*') {
                in_comment = true;
                ++k;
            } else if (in_comment && l[k] == '*' && l[k + 1] == '/') {
                in_comment = false;
                ++k;
            }
        }
    }

    std::string out;
    size_t next = 0;
    for (size_t i = 1; i <= lines.size(); ++i) {
        // Move each resync point down to a line that can take a directive, but never
        // past the next changed region (whose own directive takes over).
        while (next < at.size()) {
            unsigned p = at[next].patched_next, o = at[next].orig_next;
            unsigned limit = next + 1 < at.size() ? at[next + 1].patched_next : ~0u;
            while (p <= lines.size() && !valid[p] && p < limit) {
                ++p;
                ++o;
            }
            if (p == i && p < limit) {
                out += "#line " + std::to_string(o) + "\n";
                ++next;
                break;
            }
            if (p < i || p >= limit) {
                ++next; // nothing valid before the next region: leave it to that one
                continue;
            }
            break;
        }
        out += lines[i - 1];
        out += '\n';
    }
    return out;
}

Expected<void> stabilise_line_numbers(const std::string &orig_file, const std::string &patched_file)
{
    auto diff = run({{"diff", "-U0", orig_file, patched_file}});
    if (!diff)
        return diff.error();
    if (diff->status == 0)
        return {};
    if (diff->status != 1)
        return make_error("diff failed: " + tail_lines(diff->output, 5)).in(patched_file);
    auto text = read_text(patched_file);
    if (!text)
        return text.error();
    // write_text_atomic renames a new file into place: a hard link is never written.
    return write_text_atomic(patched_file, insert_line_directives(*text, parse_resyncs(diff->output)));
}

} // namespace kpatch::driver
