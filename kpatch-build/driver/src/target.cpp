// Step "find target": the kernel release, the exact Debian package version, the config,
// headers and source tarball of that version -- fetched into the cache with apt-get
// when the installed ones are another version (licence: GPL-2.0-only).
#include "target.hpp"

#include <filesystem>
#include <sys/stat.h>
#include <sys/utsname.h>

#include <kpatch/list_dir.hpp>

#include "process.hpp"

namespace kpatch::driver {

namespace fs = std::filesystem;

namespace {

// Installed version of a Debian package, empty when it is not installed.
std::string installed_version(const std::string &package)
{
    auto out = run({{"dpkg-query", "-W", "-f=${Status}\t${Version}", package}});
    if (!out || out->status != 0)
        return {};
    std::string text = out->output;
    size_t tab = text.find('\t');
    if (tab == std::string::npos || text.substr(0, tab).find("install ok installed") ==
                                        std::string::npos)
        return {};
    return trim(text.substr(tab + 1));
}

} // namespace

std::vector<std::string> installed_releases()
{
    auto out = run({{"dpkg-query", "-W", "-f=${Package} ${Status}\n", "linux-image-[0-9]*"}});
    if (!out || out->status != 0)
        return {};
    std::vector<std::string> releases;
    std::istringstream in(out->output);
    for (std::string line; std::getline(in, line);) {
        if (line.find("install ok installed") == std::string::npos)
            continue;
        std::string pkg = line.substr(0, line.find(' '));
        std::string rel = pkg.substr(std::string("linux-image-").size());
        if (rel.ends_with("-unsigned"))
            rel.resize(rel.size() - std::string("-unsigned").size());
        if (rel.ends_with("-dbg"))
            continue;
        if (exists("/usr/src/linux-headers-" + rel))
            releases.push_back(rel);
    }
    if (releases.empty())
        return releases;
    // Version order (6.1.0-9 < 6.1.0-56): let sort -V decide, as the shell helper does;
    // -u: an image and its -unsigned twin are one kernel.
    Command sort{{"sh", "-c", "printf '%s\\n' \"$@\" | sort -Vu", "sh"}};
    sort.argv.insert(sort.argv.end(), releases.begin(), releases.end());
    auto sorted = run(sort);
    if (!sorted || sorted->status != 0)
        return releases;
    std::vector<std::string> ordered;
    std::istringstream lines(sorted->output);
    for (std::string line; std::getline(lines, line);)
        if (!trim(line).empty())
            ordered.push_back(trim(line));
    return ordered;
}

namespace {

// Newest installed linux-image-*-amd64 (or any flavour) whose headers are installed too.
std::string newest_installed_release()
{
    auto releases = installed_releases();
    return releases.empty() ? std::string() : releases.back();
}

// "6.1.0-56-amd64" -> "6.1": the linux-source-X.Y package serving it.
std::string source_series(const std::string &release)
{
    size_t dot1 = release.find('.');
    size_t dot2 = dot1 == std::string::npos ? dot1 : release.find_first_of(".-", dot1 + 1);
    return dot2 == std::string::npos ? release : release.substr(0, dot2);
}

// The .deb of PACKAGE at UPSTREAM version in DIR; empty when there is none.
Expected<std::string> find_deb(const std::string &dir, const std::string &package, const std::string &upstream)
{
    auto entries = list_dir(dir);
    if (!entries)
        return entries.error();
    for (const auto &e : *entries) {
        std::string f = e.path().filename().string();
        if (f.starts_with(package + "_" + upstream + "_") && f.ends_with(".deb"))
            return e.path().string();
    }
    return std::string();
}

} // namespace

// Downloads PACKAGE=VERSION into cache/debs (once) and returns the .deb's path.
Expected<std::string> download_deb(const Context &ctx, const std::string &package,
                                   const std::string &version)
{
    std::string dir = ctx.cache_dir + "/debs";
    if (auto ok = make_dirs(dir); !ok)
        return ok.error();
    std::string upstream = version.substr(version.find(':') + 1); // file names drop epochs
    if (auto found = find_deb(dir, package, upstream); !found || !found->empty())
        return found;
    ctx.note("downloading " + package + "=" + version + " into " + dir);
    // Into a temporary directory first: a download cut short must not leave a .deb under
    // the name that later runs take for a complete one.
    auto tmp = make_temp_dir(dir + "/download");
    if (!tmp)
        return tmp.error();
    ::chmod(tmp->c_str(), 0755);  // apt drops to its _apt user for the download
    Command get{{"apt-get", "download", package + "=" + version}};
    get.cwd = *tmp;
    auto out = run_checked(get, "download " + package + "=" + version +
                                    " (is the version still in an apt source?)");
    auto got = out ? find_deb(*tmp, package, upstream) : Expected<std::string>(out.error());
    std::string deb = got && !got->empty() ? dir + "/" + fs::path(*got).filename().string() : "";
    Expected<void> placed;
    if (!deb.empty())
        placed = rename_into_place(*got, deb);
    remove_tree(*tmp);
    if (!got)
        return got.error();
    if (deb.empty())
        return make_error("apt-get download " + package + "=" + version + " left no .deb in " + *tmp);
    if (!placed)
        return placed.error();
    return deb;
}

// Headers of a release that is not installed: the package unpacked into the cache.
namespace {

Expected<std::string> fetch_headers(const Context &ctx, const std::string &release,
                                    std::string &version)
{
    std::string dir = ctx.cache_dir + "/headers/" + release;
    std::string inner = dir + "/usr/src/linux-headers-" + release;
    if (exists(inner + "/.config")) {
        auto v = read_text(dir + "/VERSION");
        version = v ? trim(*v) : std::string();
        return inner;
    }
    std::string package = "linux-headers-" + release;
    auto policy = run({{"apt-cache", "show", "--no-all-versions", package}});
    std::string candidate;
    if (policy && policy->status == 0) {
        std::istringstream in(policy->output);
        for (std::string line; std::getline(in, line);)
            if (line.starts_with("Version: "))
                candidate = trim(line.substr(9));
    }
    if (candidate.empty())
        return make_error("kernel " + release + ": headers are not installed (/usr/src/" +
                          package + ") and apt knows no package " + package +
                          "; install it or give --sourcedir and --config");
    auto deb = download_deb(ctx, package, candidate);
    if (!deb)
        return deb.error();
    if (auto ok = make_dirs(fs::path(dir).parent_path().string()); !ok)
        return ok.error();
    auto tmp = make_temp_dir(dir);
    if (!tmp)
        return tmp.error();
    if (auto out = run_checked({{"dpkg-deb", "-x", *deb, *tmp}}, "unpack " + *deb); !out) {
        remove_tree(*tmp);
        return out.error();
    }
    if (auto ok = write_text_atomic(*tmp + "/VERSION", candidate + "\n"); !ok) {
        remove_tree(*tmp);
        return ok.error();
    }
    // Failing because another run unpacked the same headers first is fine: use theirs.
    (void)rename_into_place(*tmp, dir);
    version = candidate;
    return inner;
}

// The Debian linux-source tarball of exactly `version`.
Expected<std::string> find_source_tarball(const Context &ctx, const std::string &series,
                                          const std::string &version)
{
    std::string package = "linux-source-" + series;
    std::string installed = installed_version(package);
    std::string system_tarball = "/usr/src/" + package + ".tar.xz";
    if (installed == version && exists(system_tarball))
        return system_tarball;
    std::string cached = ctx.cache_dir + "/src/" + package + "_" + version + ".tar.xz";
    if (exists(cached))
        return cached;
    ctx.note(installed.empty()
                 ? package + " is not installed; fetching version " + version
                 : "installed " + package + " is " + installed + ", the target needs " +
                       version + "; fetching that version");
    auto deb = download_deb(ctx, package, version);
    if (!deb)
        return deb.error();
    if (auto ok = make_dirs(ctx.cache_dir + "/src"); !ok)
        return ok.error();
    auto tmp = make_temp_file(cached);
    if (!tmp)
        return tmp.error();
    Command extract{{"sh", "-c",
                     "dpkg-deb --fsys-tarfile \"$1\" | tar -xO \"./usr/src/$2.tar.xz\" > \"$3\"",
                     "sh", *deb, package, *tmp}};
    std::error_code ec;
    if (auto out = run_checked(extract, "extract the source tarball from " + *deb); !out) {
        fs::remove(*tmp, ec);
        return out.error();
    }
    if (auto ok = rename_into_place(*tmp, cached); !ok)
        return ok.error();
    return cached;
}

} // namespace

Expected<Target> find_target(const Context &ctx)
{
    const Options &opt = ctx.options;
    Target t;
    if (!opt.kernel_release.empty()) {
        t.release = opt.kernel_release;
        t.chosen_because = "given with -k";
    } else {
        struct utsname u {};
        uname(&u);
        std::string running = u.release;
        if (!installed_version("linux-image-" + running).empty() &&
            exists("/usr/src/linux-headers-" + running)) {
            t.release = running;
            t.chosen_because = "the running kernel";
        } else {
            t.release = newest_installed_release();
            t.chosen_because = "the newest installed linux-image package (the running "
                               "kernel " + running + " has no Debian packages here)";
        }
        if (t.release.empty())
            return make_error("no target kernel: the running kernel has no Debian packages "
                              "installed and no linux-image-* with headers is installed; "
                              "give -k KVER");
    }

    t.package_version = installed_version("linux-image-" + t.release);
    if (t.package_version.empty())
        t.package_version = installed_version("linux-image-" + t.release + "-unsigned");
    t.headers_dir = "/usr/src/linux-headers-" + t.release;
    if (exists(t.headers_dir + "/.config")) {
        if (t.package_version.empty())
            t.package_version = installed_version("linux-headers-" + t.release);
    } else {
        std::string headers_version;
        auto dir = fetch_headers(ctx, t.release, headers_version);
        if (!dir)
            return dir.error();
        t.headers_dir = *dir;
        if (t.package_version.empty())
            t.package_version = headers_version;
    }
    t.config = opt.config.empty() ? t.headers_dir + "/.config" : opt.config;
    if (!exists(t.config))
        return make_error("no kernel config " + t.config + " (give -c FILE)");
    if (exists(t.headers_dir + "/.kernelvariables"))
        t.kernelvariables = t.headers_dir + "/.kernelvariables";
    t.symvers = t.headers_dir + "/Module.symvers";
    if (!exists(t.symvers))
        return make_error("no Module.symvers in " + t.headers_dir);
    if (exists("/boot/vmlinuz-" + t.release))
        t.vmlinuz = "/boot/vmlinuz-" + t.release;

    if (!opt.sourcedir.empty()) {
        std::error_code ec;
        t.sourcedir = fs::canonical(opt.sourcedir, ec).string();
        if (ec || !exists(t.sourcedir + "/Makefile"))
            return make_error("--sourcedir " + opt.sourcedir + ": not a kernel tree (no Makefile)");
        t.source_id = "dir:" + t.sourcedir;
        return t;
    }
    if (t.package_version.empty())
        return make_error("cannot tell the Debian package version of kernel " + t.release +
                          " (neither linux-image-" + t.release + " nor its headers are "
                          "installed); give --sourcedir");
    auto tarball = find_source_tarball(ctx, source_series(t.release), t.package_version);
    if (!tarball)
        return tarball.error();
    t.source_tarball = *tarball;
    t.source_id = "linux-source-" + source_series(t.release) + "=" + t.package_version;
    return t;
}

} // namespace kpatch::driver
