// Test helpers: a temporary root with the loader's paths, fixtures, and a fake kernel (licence: GPL-2.0-only).
#pragma once

#include <kpatch/loader/ops.hpp>

#include <deque>
#include <functional>
#include <filesystem>
#include <string>
#include <vector>

namespace kpatch::test {

namespace fs = std::filesystem;

inline constexpr const char *kRelease = "6.1.0-56-amd64";

// A directory under /tmp removed at the end of the test.
class TempTree {
public:
    TempTree();
    ~TempTree();
    TempTree(const TempTree &) = delete;
    TempTree &operator=(const TempTree &) = delete;
    const fs::path &root() const { return root_; }
    fs::path write(const fs::path &rel, const std::string &content) const;
    std::string read(const fs::path &rel) const;
    // Copies a compiled fixture module into the tree (mode 0644) and returns its path.
    fs::path fixture(const std::string &name, const fs::path &rel_dir = "modules") const;
    // Every path of the loader's Config inside this tree; release kRelease; owner us; no delays.
    loader::Config config() const;

private:
    fs::path root_;
};

fs::path fixture_dir();

// Adds a patch directory to a fake /sys/kernel/kpatch, with the layout of doc/interfaces.md:
// each of FUNCTIONS ("<object>/<function>,<sympos>") a directory whose `active` is 1.
void add_sysfs_patch(const loader::Config &c, const std::string &name, bool enabled, long order,
                     const std::vector<std::string> &functions = {"vmlinux/cmdline_proc_show,0"});

// Runs CHANGE on a Store at STORE_ROOT in a child process that SIGKILLs itself once the
// store reports step KILL_AT; true when the child died that way (the kill test's premise).
bool killed_at_step(const fs::path &store_root, const std::string &kill_at,
                    const std::function<void(loader::Store &)> &change);

// A kernel that acts on the fake sysfs tree of a Config.
class FakeKernel : public loader::Kernel {
public:
    explicit FakeKernel(const loader::Config &c) : config_(c) {}
    int finit_module(int fd, const std::string &params) override;
    int delete_module(const std::string &name) override;
    int modprobe(const std::string &name) override;
    void sleep(std::chrono::milliseconds) override { ++sleeps; }

    std::deque<int> finit_results;     // popped per call; empty = success
    std::string busy_error;            // written to last_error when a result is EBUSY
    bool modprobe_works = true;
    std::vector<std::string> delete_fails;  // delete_module of these returns EIO
    int sleeps = 0;
    std::vector<std::string> calls;
    std::string nudged;                // written to sysfs nudged when a patch loads
    std::vector<std::string> nudge_param_seen;  // the core's nudge parameter at each patch load

private:
    const loader::Config &config_;
    long next_order_ = 1;
};

} // namespace kpatch::test
