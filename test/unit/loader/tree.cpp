// Test helpers: a temporary root with the loader's paths, fixtures, and a fake kernel (licence: GPL-2.0-only).
#include "tree.hpp"

#include <kpatch/loader/module_file.hpp>

#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace kpatch::test {

TempTree::TempTree()
{
    std::string tmpl = (fs::temp_directory_path() / "kpatch-unit-XXXXXX").string();
    REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
    root_ = tmpl;
    ::chmod(root_.c_str(), 0755);
}

TempTree::~TempTree()
{
    std::error_code ec;
    fs::remove_all(root_, ec);
}

fs::path TempTree::write(const fs::path &rel, const std::string &content) const
{
    fs::path p = root_ / rel;
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << content;
    return p;
}

std::string TempTree::read(const fs::path &rel) const
{
    std::ifstream in(root_ / rel, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

fs::path fixture_dir()
{
    const char *d = std::getenv("KPATCH_FIXTURE_DIR");
    REQUIRE(d != nullptr);
    return d;
}

fs::path TempTree::fixture(const std::string &name, const fs::path &rel_dir) const
{
    fs::path dest = root_ / rel_dir / name;
    fs::create_directories(dest.parent_path());
    fs::copy_file(fixture_dir() / name, dest, fs::copy_options::overwrite_existing);
    ::chmod(dest.c_str(), 0644);
    return dest;
}

loader::Config TempTree::config() const
{
    loader::Config c;
    c.sysfs_root = root_ / "sys/kernel/kpatch";
    c.sys_module_root = root_ / "sys/module";
    c.kernel_notes = root_ / "sys/kernel/notes";
    c.kallsyms = root_ / "proc/kallsyms";
    c.cmdline = root_ / "proc/cmdline";
    c.filter_functions = root_ / "sys/kernel/tracing/available_filter_functions";
    c.sig_enforce = root_ / "sys/module/module/parameters/sig_enforce";
    c.install_root = root_ / "var/lib/kpatch";
    c.run_dir = root_ / "run/kpatch";
    c.modules_root = root_ / "lib/modules";
    c.kernel_release = kRelease;
    c.trusted_uid = ::getuid();
    c.retry_delay = std::chrono::milliseconds(0);
    fs::create_directories(c.sys_module_root);
    return c;
}

void add_sysfs_patch(const loader::Config &c, const std::string &name, bool enabled, long order,
                     const std::vector<std::string> &functions)
{
    fs::path d = c.sysfs_root / name;
    fs::create_directories(d);
    std::ofstream(d / "enabled") << (enabled ? "1\n" : "0\n");
    std::ofstream(d / "order") << order << "\n";
    for (const auto &f : functions) {
        fs::path fd = d / f;
        fs::create_directories(fd);
        std::ofstream(fd.parent_path() / "state") << (enabled ? "applied\n" : "disabled\n");
        std::ofstream(fd / "active") << "1\n";
        std::ofstream(fd / "old_addr") << "0xffffffff81000000\n";
        std::ofstream(fd / "new_addr") << "0xffffffffc0000000\n";
    }
    std::ofstream(d / "last_error") << "";
    fs::create_directories(c.sys_module_root / name);
}

int FakeKernel::finit_module(int fd, const std::string &)
{
    auto info = loader::read_module_info(fd, "fake");
    calls.push_back("finit:" + (info ? info->name : std::string("?")));
    int result = 0;
    if (!finit_results.empty()) {
        result = finit_results.front();
        finit_results.pop_front();
    }
    if (result == EBUSY && !busy_error.empty()) {
        fs::create_directories(config_.sysfs_root);
        std::ofstream(config_.sysfs_root / "last_error") << busy_error << "\n";
    }
    if (result != 0 || !info)
        return result ? result : ENOEXEC;
    if (info->name == "kpatch") {
        fs::create_directories(config_.sysfs_root);
        fs::create_directories(config_.sys_module_root / "kpatch");
    } else {
        add_sysfs_patch(config_, info->name, true, next_order_++);
        std::ifstream param(config_.sys_module_root / "kpatch" / "parameters" / "nudge");
        std::string value;
        std::getline(param, value);
        nudge_param_seen.push_back(value);
        std::ofstream(config_.sysfs_root / "nudged") << nudged;
    }
    return 0;
}

int FakeKernel::delete_module(const std::string &name)
{
    calls.push_back("delete:" + name);
    if (std::find(delete_fails.begin(), delete_fails.end(), name) != delete_fails.end())
        return EIO;
    std::error_code ec;
    std::ifstream en(config_.sysfs_root / name / "enabled");
    std::string v;
    if (en >> v && v == "1")
        return EWOULDBLOCK;
    fs::remove_all(config_.sysfs_root / name, ec);
    fs::remove_all(config_.sys_module_root / name, ec);
    return 0;
}

int FakeKernel::modprobe(const std::string &name)
{
    calls.push_back("modprobe:" + name);
    if (!modprobe_works)
        return 1;
    fs::create_directories(config_.sysfs_root);
    return 0;
}

bool killed_at_step(const fs::path &store_root, const std::string &kill_at,
                    const std::function<void(loader::Store &)> &change)
{
    pid_t pid = ::fork();
    if (pid < 0)
        return false;
    if (pid == 0) {
        loader::Store s(store_root, [&](std::string_view step) {
            if (step == kill_at)
                ::kill(::getpid(), SIGKILL);
        });
        change(s);
        ::_exit(0);
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    return WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
}

} // namespace kpatch::test
