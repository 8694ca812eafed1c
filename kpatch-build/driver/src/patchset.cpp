// Steps "read patches" and "apply patches" (licence: GPL-2.0-only).
#include "patchset.hpp"

#include <algorithm>
#include <filesystem>
#include <sstream>
#include <cerrno>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "process.hpp"

namespace kpatch::driver {

namespace fs = std::filesystem;

namespace {

// "--- a/fs/proc/cmdline.c\t2024-01-01 ..." -> "a/fs/proc/cmdline.c"
std::string header_name(const std::string &line)
{
    std::string name = line.substr(4);
    size_t tab = name.find('\t');
    if (tab != std::string::npos)
        name.resize(tab);
    return trim(name);
}

std::string strip_components(const std::string &name, int n)
{
    size_t pos = 0;
    for (int i = 0; i < n; ++i) {
        size_t slash = name.find('/', pos);
        if (slash == std::string::npos)
            return {};
        pos = slash + 1;
    }
    return name.substr(pos);
}

} // namespace

Expected<PatchSet> read_patches(const std::vector<std::string> &paths, const std::string &tree)
{
    PatchSet set;
    std::string all_hashes;
    for (const auto &path : paths) {
        auto text = read_text(path);
        if (!text)
            return text.error();
        PatchFile pf;
        pf.path = path;
        pf.sha256 = sha256_hex(*text);
        all_hashes += pf.sha256 + "\n";

        // Pairs of (old, new) names from the unified-diff headers.
        std::vector<std::pair<std::string, std::string>> names;
        std::istringstream in(*text);
        std::string prev;
        for (std::string line; std::getline(in, line); prev = line)
            if (line.starts_with("+++ ") && prev.starts_with("--- "))
                names.emplace_back(header_name(prev), header_name(line));
        if (names.empty())
            return make_error("no unified-diff file headers (--- / +++): not a patch?").in(path);

        // -p1 for git-style a/ b/ names, else -p0: the level at which the old names exist.
        auto fits = [&](int p) {
            for (const auto &[old_name, new_name] : names) {
                if (old_name == "/dev/null")
                    continue;
                std::string rel = strip_components(old_name, p);
                if (rel.empty() || !exists(tree + "/" + rel))
                    return false;
            }
            return true;
        };
        pf.strip = fits(1) ? 1 : fits(0) ? 0 : 1;
        for (const auto &[old_name, new_name] : names) {
            bool created = old_name == "/dev/null";
            std::string rel = strip_components(new_name == "/dev/null" ? old_name : new_name,
                                               pf.strip);
            if (rel.empty())
                return make_error("cannot tell the file of \"+++ " + new_name + "\"").in(path);
            (created ? pf.added : pf.files).push_back(rel);
            if (std::find(set.files.begin(), set.files.end(), rel) == set.files.end())
                set.files.push_back(rel);
        }
        set.patches.push_back(std::move(pf));
    }
    set.sha256 = paths.size() == 1 ? set.patches[0].sha256 : sha256_hex(all_hashes);
    return set;
}

Expected<void> break_link(const std::string &path)
{
    struct stat st {};
    if (lstat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode) || st.st_nlink == 1)
        return {};
    std::string tmp = path + ".kpatch-unlink";
    std::error_code ec;
    fs::copy_file(path, tmp, fs::copy_options::overwrite_existing, ec);
    if (!ec)
        fs::permissions(tmp, static_cast<fs::perms>(st.st_mode & 07777), ec);
    // Same times as before, or make would see a newer file and rebuild what depends on it.
    timespec times[2] = {st.st_atim, st.st_mtim};
    if (!ec && utimensat(AT_FDCWD, tmp.c_str(), times, 0) != 0)
        ec = std::error_code(errno, std::generic_category());
    if (ec) {
        std::error_code ignored;
        fs::remove(tmp, ignored);
        return make_error("cannot make a private copy: " + ec.message()).in(path);
    }
    return rename_into_place(tmp, path);
}

Expected<void> apply_patches(const PatchSet &set, const std::string &tree,
                             const std::string &source_name)
{
    for (const auto &rel : set.files)
        if (auto ok = break_link(tree + "/" + rel); !ok)
            return ok.error();
    for (const auto &pf : set.patches) {
        std::error_code ec;
        std::string abs = fs::absolute(pf.path, ec).string();
        Command cmd({"patch", "-p" + std::to_string(pf.strip), "--batch", "--forward",
                     "--no-backup-if-mismatch", "-r", "-", "-i", abs});
        cmd.cwd = tree;
        auto out = run(cmd);
        if (!out)
            return out.error();
        if (out->status != 0)
            return Error{"patch " + pf.path + kDoesNotApply + source_name + ":\n" +
                             trim(out->output),
                         kExitError};
    }
    return {};
}

} // namespace kpatch::driver
