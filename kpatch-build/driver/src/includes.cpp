// The #include index of a kernel tree (licence: GPL-2.0-only).
#include "includes.hpp"

#include <algorithm>
#include <deque>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "arch/kernel_layout.hpp"
#include "context.hpp"

namespace kpatch::driver {

namespace fs = std::filesystem;

namespace {

// Where <...> includes are searched by kbuild's -I options (uapi and generated
// directories included), in kbuild's order.
const std::vector<std::string> &include_bases()
{
    static const std::vector<std::string> bases = [] {
        std::string a = arch::host_kernel_layout().arch_dir();
        return std::vector<std::string>{"include/", a + "/include/", "include/uapi/", a + "/include/uapi/",
                                        a + "/include/generated/", a + "/include/generated/uapi/",
                                        "include/generated/"};
    }();
    return bases;
}

// Top-level directories that hold no vmlinux code (or other architectures).
bool skipped_dir(const std::string &rel)
{
    static const std::set<std::string> top = {"Documentation", "tools", "samples", "scripts",
                                              "usr", "LICENSES", "rust", "certs"};
    if (top.count(rel))
        return true;
    return rel.starts_with("arch/") && rel != arch::host_kernel_layout().arch_dir() &&
           rel.find('/', 5) == std::string::npos;
}

bool source_file(const std::string &name)
{
    return name.ends_with(".c") || name.ends_with(".h") || name.ends_with(".S");
}

// `#  include <linux/foo.h>` -> ("linux/foo.h", false)
bool parse_include(const std::string &line, std::string &spelling, bool &quoted)
{
    size_t i = line.find_first_not_of(" \t");
    if (i == std::string::npos || line[i] != '#')
        return false;
    i = line.find_first_not_of(" \t", i + 1);
    if (i == std::string::npos || line.compare(i, 7, "include") != 0)
        return false;
    i = line.find_first_not_of(" \t", i + 7);
    if (i == std::string::npos || (line[i] != '"' && line[i] != '<'))
        return false;
    quoted = line[i] == '"';
    size_t end = line.find(quoted ? '"' : '>', i + 1);
    if (end == std::string::npos)
        return false;
    spelling = line.substr(i + 1, end - i - 1);
    return !spelling.empty();
}

std::string basename_of(const std::string &path)
{
    size_t slash = path.rfind('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

} // namespace

void IncludeIndex::add(Edge e)
{
    ++edges_;
    by_basename_[basename_of(e.spelling)].push_back(std::move(e));
}

Expected<void> IncludeIndex::load_or_build(const std::string &tree, const std::string &cache_file,
                                           IncludeIndex &index)
{
    if (auto text = read_text(cache_file)) {
        std::istringstream in(*text);
        for (std::string line; std::getline(in, line);) {
            size_t t1 = line.find('\t'), t2 = line.find('\t', t1 + 1);
            if (t1 == std::string::npos || t2 == std::string::npos)
                continue;
            index.add({line.substr(0, t1), line.substr(t2 + 1), line[t1 + 1] == 'q'});
        }
        return {};
    }

    std::string out;
    std::error_code ec;
    auto it = fs::recursive_directory_iterator(tree, fs::directory_options::skip_permission_denied, ec);
    if (ec)
        return make_error("cannot walk the tree: " + ec.message()).in(tree);
    for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
        if (ec)
            break;
        std::string rel = it->path().lexically_relative(tree).string();
        if (it->is_directory(ec)) {
            if (skipped_dir(rel) || basename_of(rel).starts_with("."))
                it.disable_recursion_pending();
            continue;
        }
        if (!source_file(rel))
            continue;
        std::ifstream in(it->path());
        std::string line, spelling;
        bool quoted;
        while (std::getline(in, line)) {
            if (line.find("include") == std::string::npos || !parse_include(line, spelling, quoted))
                continue;
            out += rel + "\t" + (quoted ? "q" : "a") + "\t" + spelling + "\n";
            index.add({rel, spelling, quoted});
        }
    }
    // Best effort: without a cache file the next run scans again.
    (void)write_text_atomic(cache_file, out);
    return {};
}

std::vector<std::string> IncludeIndex::direct_includers(const std::string &file) const
{
    std::vector<std::string> found;
    auto it = by_basename_.find(basename_of(file));
    if (it == by_basename_.end())
        return found;
    for (const Edge &e : it->second) {
        bool match = false;
        if (e.quoted) {
            fs::path dir = fs::path(e.includer).parent_path();
            match = (dir / e.spelling).lexically_normal().string() == file;
        }
        for (const std::string &base : include_bases())
            match = match || std::string(base) + e.spelling == file;
        if (match)
            found.push_back(e.includer);
    }
    return found;
}

std::vector<std::string> IncludeIndex::includers(const std::string &file) const
{
    std::set<std::string> seen;
    std::deque<std::string> queue{file};
    while (!queue.empty()) {
        std::string f = queue.front();
        queue.pop_front();
        for (auto &inc : direct_includers(f))
            if (seen.insert(inc).second)
                queue.push_back(inc);
    }
    seen.erase(file);
    return {seen.begin(), seen.end()};
}

} // namespace kpatch::driver
