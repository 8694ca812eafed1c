// Work trees as partial hard-link copies of the prepared tree (licence: GPL-2.0-only).
#include "worktree.hpp"

#include <filesystem>
#include <set>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <kpatch/list_dir.hpp>

#include "arch/kernel_layout.hpp"
#include "patchset.hpp"

namespace kpatch::driver {

namespace fs = std::filesystem;

namespace {

// Directories that a plain `make <dir>/<file>.o` reads build state from and may write
// into in a prepared 6.1 tree (the prepare stage: asm-offsets, bounds, fixdep, objtool,
// resolve_btfids, generated headers). They get real hard-link copies.
std::set<std::string> build_state_dirs()
{
    return {"include", "scripts", "kernel", arch::host_kernel_layout().arch_dir(), "tools/objtool", "tools/bpf"};
}

// What kbuild rewrites in place on every make even when it is up to date (found by
// building in a copy and listing shared inodes whose mtime moved): the missing-syscalls
// check's dependency file and the host tools' .cmd/.d files. They are written with `>`
// (O_TRUNC), which goes through a hard link, so they get private copies.
const char *const kRewrittenFiles[] = {".missing-syscalls.d"};
const char *const kRewrittenDirs[] = {"tools/objtool", "tools/bpf/resolve_btfids"};

// Object files and kbuild's .cmd/.d records left in the pristine tree (a test that built
// an object there, say) are rewritten with O_TRUNC when that object is built again, which
// would go through a hard link into the cache. They get private copies with their
// original times, so make's up-to-date checks see the same tree.
bool is_object_record(const fs::path &file)
{
    std::string n = file.filename().string();
    return n.ends_with(".o") || n.ends_with(".o.d") || (n.starts_with(".") && n.ends_with(".cmd"));
}

void place_file(const fs::path &from, const fs::path &to, std::error_code &ec)
{
    if (!is_object_record(from)) {
        fs::create_hard_link(from, to, ec);
        return;
    }
    fs::copy_file(from, to, fs::copy_options::overwrite_existing, ec);
    struct stat st {};
    if (!ec && ::stat(from.c_str(), &st) == 0) {
        timespec times[2] = {st.st_atim, st.st_mtim};
        ::utimensat(AT_FDCWD, to.c_str(), times, 0);
    }
}

Expected<void> link_all(const fs::path &from, const fs::path &to)
{
    std::error_code ec;
    fs::create_directories(to, ec);
    for (auto it = fs::recursive_directory_iterator(from, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        fs::path target = to / it->path().lexically_relative(from);
        if (it->is_symlink(ec))
            fs::copy_symlink(it->path(), target, ec);
        else if (it->is_directory(ec))
            fs::create_directory(target, ec);
        else
            place_file(it->path(), target, ec);
        if (ec)
            return make_error("cannot link into the work tree: " + ec.message()).in(target.string());
    }
    if (ec)
        return make_error("cannot copy: " + ec.message()).in(from.string());
    return {};
}

// Copies directory `rel` of `pristine` into `dest`: paths in `full` entirely as hard
// links, ancestors of such paths as real directories, everything else by symlink.
Expected<void> copy_level(const fs::path &pristine, const fs::path &dest, const fs::path &rel,
                          const std::set<std::string> &full, const std::set<std::string> &ancestors)
{
    std::error_code ec;
    fs::create_directories(dest / rel, ec);
    auto entries = list_dir(pristine / rel);
    if (!entries)
        return entries.error();
    for (const auto &e : *entries) {
        fs::path r = rel / e.path().filename();
        std::string key = r.string();
        fs::path target = dest / r;
        std::error_code ec2;
        if (e.is_symlink(ec2)) {
            fs::copy_symlink(e.path(), target, ec2);
        } else if (!e.is_directory(ec2)) {
            place_file(e.path(), target, ec2);
        } else if (full.count(key)) {
            if (auto ok = link_all(e.path(), target); !ok)
                return ok.error();
        } else if (ancestors.count(key)) {
            if (auto ok = copy_level(pristine, dest, r, full, ancestors); !ok)
                return ok.error();
        } else {
            fs::create_directory_symlink(e.path(), target, ec2);
        }
        if (ec2)
            return make_error("cannot populate the work tree: " + ec2.message()).in(target.string());
    }
    if (ec)
        return make_error("cannot read: " + ec.message()).in((pristine / rel).string());
    return {};
}

} // namespace

Expected<void> make_work_tree(const std::string &pristine, const std::string &dest,
                              const std::vector<std::string> &needed)
{
    std::set<std::string> full = build_state_dirs();
    for (const auto &n : needed) {
        std::string dir = fs::path(n).parent_path().string();
        if (!dir.empty())
            full.insert(dir);
    }
    // A path inside another full path is covered by it.
    for (auto it = full.begin(); it != full.end();) {
        bool covered = false;
        for (const auto &other : full)
            covered |= other != *it && it->starts_with(other + "/");
        it = covered ? full.erase(it) : std::next(it);
    }
    std::set<std::string> ancestors;
    for (const auto &f : full)
        for (fs::path p = fs::path(f).parent_path(); !p.empty(); p = p.parent_path())
            ancestors.insert(p.string());

    fs::path abs = fs::absolute(pristine);
    if (auto ok = copy_level(abs, dest, "", full, ancestors); !ok)
        return ok.error();
    for (const char *rel : kRewrittenFiles)
        if (auto ok = break_link(dest + "/" + rel); !ok)
            return ok.error();
    for (const char *rel : kRewrittenDirs) {
        std::error_code ec;
        for (auto it = fs::recursive_directory_iterator(dest + "/" + rel, ec);
             !ec && it != fs::recursive_directory_iterator(); it.increment(ec))
            if (it->is_regular_file(ec) && !it->is_symlink(ec))
                if (auto ok = break_link(it->path().string()); !ok)
                    return ok.error();
    }
    return {};
}

timespec now_realtime()
{
    timespec ts {};
    clock_gettime(CLOCK_REALTIME, &ts);
    return ts;
}

std::vector<std::string> shared_files_written(const std::string &tree, const timespec &since)
{
    std::vector<std::string> written;
    std::error_code ec;
    // The directory iterator does not follow the symlinked directories: only the
    // hard-linked part is checked, which is where the build writes.
    for (auto it = fs::recursive_directory_iterator(tree, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        struct stat st {};
        if (lstat(it->path().c_str(), &st) != 0 || !S_ISREG(st.st_mode))
            continue;
        bool newer = st.st_mtim.tv_sec > since.tv_sec ||
                     (st.st_mtim.tv_sec == since.tv_sec && st.st_mtim.tv_nsec >= since.tv_nsec);
        if (st.st_nlink > 1 && newer)
            written.push_back(fs::relative(it->path(), tree, ec).string());
    }
    return written;
}

void remove_tree_in_background(const std::string &path)
{
    pid_t pid = fork();
    if (pid == 0) {
        // Double fork: the grandchild is reparented and nobody waits for it.
        if (fork() == 0) {
            setsid();
            execlp("rm", "rm", "-rf", "--", path.c_str(), static_cast<char *>(nullptr));
            _exit(127);
        }
        _exit(0);
    }
    if (pid > 0)
        waitpid(pid, nullptr, 0);
    else
        remove_tree(path);
}

} // namespace kpatch::driver
