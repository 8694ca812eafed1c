// The core's nudge switch around one change, and the tasks it nudged (licence: GPL-2.0-only).
// The core nudges tasks asleep in a function being switched when its module parameter
// `nudge` is 1 (kpatch(7)); the loader sets it to Config::nudge for the length of one
// load or unload and puts the previous value back, so raw insmod keeps the default.
#include "util.hpp"

#include <kpatch/loader/sysfs.hpp>

#include <fmt/format.h>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>

namespace kpatch::loader::detail {

namespace fs = std::filesystem;

namespace {

fs::path nudge_param(const Config &config)
{
    return config.sys_module_root / "kpatch" / "parameters" / "nudge";
}

int write_param(const fs::path &file, char value)
{
    int fd = ::open(file.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return errno;
    int err = ::write(fd, &value, 1) == 1 ? 0 : errno;
    if (::close(fd) != 0 && err == 0)
        err = errno;
    return err;
}

} // namespace

Expected<NudgeScope> NudgeScope::apply(const Config &config)
{
    NudgeScope scope;
    fs::path file = nudge_param(config);
    std::string now = read_line(file);
    if (now.empty()) {
        // A core without the switch never nudges: nothing to turn off.
        return scope;
    }
    char want = config.nudge ? 'Y' : 'N';
    char had = (now == "Y" || now == "1") ? 'Y' : 'N';
    if (had == want)
        return scope;
    if (int err = write_param(file, want); err != 0)
        return failure("set", file.string(), fmt::format("cannot turn nudging {}: {}", config.nudge ? "on" : "off", errno_text(err)),
                       kFailed);
    scope.file_ = file;
    scope.previous_ = had;
    return scope;
}

NudgeScope::~NudgeScope()
{
    if (!file_.empty())
        write_param(file_, previous_);  // best effort: the next change sets it again anyway
}

NudgeScope::NudgeScope(NudgeScope &&o) noexcept : file_(std::move(o.file_)), previous_(o.previous_)
{
    o.file_.clear();
}

std::vector<std::string> read_nudged(const Config &config, const std::string &patch)
{
    // Lines "<patch> <op> <comm>/<pid>[ kthread]" of the core's last transition.
    std::vector<std::string> tasks;
    std::ifstream in(config.sysfs_root / "nudged");
    std::string line;
    while (std::getline(in, line)) {
        auto first = line.find(' ');
        if (first == std::string::npos || module_name(line.substr(0, first)) != module_name(patch))
            continue;
        auto second = line.find(' ', first + 1);
        if (second == std::string::npos)
            continue;
        tasks.push_back(line.substr(second + 1));
    }
    return tasks;
}

} // namespace kpatch::loader::detail
