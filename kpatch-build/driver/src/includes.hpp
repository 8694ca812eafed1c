// Which source files include a header, directly or through other headers, in a kernel
// tree (licence: GPL-2.0-only).
#pragma once

#include <string>
#include <unordered_map>
#include <vector>

#include <kpatch/expected.hpp>

namespace kpatch::driver {

// An index of every #include in the tree's C and assembler sources (the host's only among the
// architectures), built by one pass over the files and kept in the cache next to the
// prepared tree: about 60,000 files, a few seconds once, then a fraction of a second to
// load.
class IncludeIndex {
public:
    // Fills `index` (an out-parameter: GCC 12 warns spuriously when an Expected holding
    // the maps is destroyed after a move).
    static Expected<void> load_or_build(const std::string &tree, const std::string &cache_file,
                                        IncludeIndex &index);

    // Every file that includes `file` (tree-relative), directly or transitively, sorted.
    std::vector<std::string> includers(const std::string &file) const;

    size_t size() const { return edges_; }

private:
    struct Edge {
        std::string includer;
        std::string spelling; // as written between the quotes or brackets
        bool quoted;
    };
    std::vector<std::string> direct_includers(const std::string &file) const;
    void add(Edge e);

    std::unordered_map<std::string, std::vector<Edge>> by_basename_;
    size_t edges_ = 0;
};

} // namespace kpatch::driver
