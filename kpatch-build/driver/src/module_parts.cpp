// Which module a kernel object belongs to, and the target's own .ko of that module
// (licence: GPL-2.0-only).
#include "module_parts.hpp"

#include <filesystem>
#include <sys/stat.h>
#include <unistd.h>

#include <kpatch/symbols/kernel_symbols.hpp>

#include "process.hpp"

namespace kpatch::driver {

namespace fs = std::filesystem;

Expected<std::string> module_of_object(const std::string &tree, const std::string &object)
{
    fs::path p(object);
    std::string cmd_file = tree + "/" + p.parent_path().string() + "/." + p.filename().string() + ".cmd";
    auto text = read_text(cmd_file);
    if (!text)
        return make_error("kbuild left no command file for " + object + " (" +
                          text.error().message + ")").in(cmd_file);
    // Only the first line: the command itself (the rest lists dependencies).
    std::string cmd = text->substr(0, text->find('\n'));
    if (cmd.find(" -DMODULE ") == std::string::npos)
        return std::string();
    const std::string key = "-DKBUILD_MODNAME='\"";
    size_t at = cmd.find(key);
    if (at == std::string::npos)
        return make_error(object + " was built with -DMODULE but without KBUILD_MODNAME").in(cmd_file);
    at += key.size();
    size_t end = cmd.find('"', at);
    if (end == std::string::npos || end == at)
        return make_error("malformed KBUILD_MODNAME for " + object).in(cmd_file);
    return cmd.substr(at, end - at);
}

Expected<std::string> TargetModules::modules_dir()
{
    if (!dir_.empty())
        return dir_;
    std::string installed = "/lib/modules/" + target_.release + "/kernel";
    if (exists(installed))
        return dir_ = installed;
    // Not installed here: the image package of the exact version the target runs.
    auto unpacked = unpacked_image();
    if (!unpacked)
        return unpacked.error();
    std::string inner = *unpacked + "/lib/modules/" + target_.release + "/kernel";
    if (!exists(inner))
        return make_error("linux-image-" + target_.release + " holds no lib/modules/" +
                          target_.release + "/kernel").in(*unpacked);
    return dir_ = inner;
}

Expected<std::string> TargetModules::image_vmlinuz()
{
    auto unpacked = unpacked_image();
    if (!unpacked)
        return unpacked.error();
    std::string vmlinuz = *unpacked + "/boot/vmlinuz-" + target_.release;
    if (!exists(vmlinuz))
        return make_error("linux-image-" + target_.release + " holds no boot/vmlinuz-" +
                          target_.release).in(*unpacked);
    return vmlinuz;
}

// <cache>/modules/KVER: linux-image-KVER of the target's exact version, unpacked once.
Expected<std::string> TargetModules::unpacked_image()
{
    std::string unpacked = ctx_.cache_dir + "/modules/" + target_.release;
    if (exists(unpacked))
        return unpacked;
    if (target_.package_version.empty())
        return make_error(target_.release + " is not installed and its package version is "
                          "unknown: install linux-image-" + target_.release);
    auto deb = download_deb(ctx_, "linux-image-" + target_.release, target_.package_version);
    if (!deb)
        return deb.error();
    if (auto ok = make_dirs(fs::path(unpacked).parent_path().string()); !ok)
        return ok.error();
    // A temporary name the cache sweep knows: a run killed while unpacking leaves nothing
    // that looks unpacked.
    auto tmp_dir = make_temp_dir(unpacked);
    if (!tmp_dir)
        return tmp_dir.error();
    const std::string &tmp = *tmp_dir;
    ::chmod(tmp.c_str(), 0755);
    if (auto out = run_checked({{"dpkg-deb", "-x", *deb, tmp}}, "unpack " + *deb); !out) {
        remove_tree(tmp);
        return out.error();
    }
    if (auto ok = rename_into_place(tmp, unpacked); !ok)
        return ok.error();
    return unpacked;
}

Expected<std::string> TargetModules::ko(const std::string &module)
{
    auto dir = modules_dir();
    if (!dir)
        return dir.error();
    if (index_.empty()) {
        std::error_code ec;
        for (auto it = fs::recursive_directory_iterator(*dir, ec); !ec && it != fs::end(it);
             it.increment(ec))
            if (it->path().extension() == ".ko")
                index_.emplace(symbols::module_name_of(it->path().filename().string()),
                               it->path().string());
    }
    auto it = index_.find(module);
    if (it == index_.end())
        return make_error("the target kernel has no module " + module + ".ko (compressed "
                          "modules are not supported)").in(*dir);
    return it->second;
}

Expected<std::string> TargetModules::kbuild_path(const std::string &module)
{
    auto ko = this->ko(module);
    if (!ko)
        return ko.error();
    std::string rel = fs::path(*ko).lexically_relative(dir_).string();
    if (rel.empty() || rel.starts_with("..") || !rel.ends_with(".ko"))
        return make_error("cannot tell where kbuild built module " + module + " from its "
                          "installed path").in(*ko);
    return rel.substr(0, rel.size() - 3);
}

} // namespace kpatch::driver
