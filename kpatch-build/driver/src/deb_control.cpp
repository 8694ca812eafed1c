// Names, versions and relations of the packages kpatch-build writes (licence: GPL-2.0-only).
#include "deb_control.hpp"

#include <cctype>
#include <ctime>
#include <sstream>

namespace kpatch::driver::deb {

namespace {

bool lower_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

std::string quoted(const std::string &s)
{
    return "'" + s + "'";
}

std::string describe(char c)
{
    if (std::isprint(static_cast<unsigned char>(c)))
        return std::string("'") + c + "'";
    char buf[8];
    std::snprintf(buf, sizeof buf, "0x%02x", static_cast<unsigned char>(c));
    return buf;
}

// A control-file field value may not hold a newline; the long description's lines are
// indented, and an empty line is " .".
std::string description_line(const std::string &s)
{
    return s.empty() ? " ." : " " + s;
}

} // namespace

Expected<void> check_name(const std::string &name)
{
    const std::string what = "package name component " + quoted(name);
    if (name.empty())
        return make_error("-n NAME is empty: the package is kpatch-patch-NAME-KABI");
    if (!lower_alnum(name[0]))
        return make_error(what + " must start with a lowercase letter or a digit (Debian package names do)");
    for (char c : name)
        if (!lower_alnum(c) && c != '+' && c != '-' && c != '.')
            return make_error(what + " has " + describe(c) +
                              ": Debian package names allow only lowercase letters, digits, '+', '-' and '.'");
    return {};
}

Expected<void> check_version(const std::string &version)
{
    const std::string what = "package version " + quoted(version);
    if (version.empty())
        return make_error("--deb-version is empty");
    std::string upstream = version;
    if (auto colon = version.find(':'); colon != std::string::npos) {
        std::string epoch = version.substr(0, colon);
        if (epoch.empty() || epoch.find_first_not_of("0123456789") != std::string::npos)
            return make_error(what + ": the epoch before ':' must be a number");
        upstream = version.substr(colon + 1);
    }
    if (upstream.empty() || !std::isdigit(static_cast<unsigned char>(upstream[0])))
        return make_error(what + ": the version must start with a digit (after the epoch)");
    for (char c : upstream)
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '+' && c != '~' && c != '-')
            return make_error(what + " has " + describe(c) +
                              ": Debian versions allow only letters, digits, '.', '+', '~' and '-'");
    if (upstream.back() == '-')
        return make_error(what + ": the Debian revision after the last '-' is empty");
    return {};
}

Expected<void> check_kernel_release(const std::string &release)
{
    if (auto ok = check_name(release); !ok)
        return make_error("kernel release " + quoted(release) +
                          " cannot be part of a Debian package name (lowercase letters, digits, "
                          "'+', '-', '.' only)");
    return {};
}

std::string package_name(const std::string &name, const std::string &kernel_release)
{
    return "kpatch-patch-" + name + "-" + kernel_release;
}

std::string virtual_name(const std::string &kernel_release)
{
    return "kpatch-patch-" + kernel_release;
}

std::string core_package_name(const std::string &kernel_release)
{
    return "kpatch-modules-" + kernel_release;
}

Expected<std::string> module_name(const std::string &name, const std::string &version)
{
    std::string v;
    for (char c : version) {
        switch (c) {
        case '.': v += '_'; break;
        case '+': v += 'p'; break;
        case '~': v += 't'; break;
        case ':': v += 'e'; break;
        default: v += c;
        }
    }
    std::string module;
    for (char c : "kpatch-" + name + "-v" + v)
        module += (c == '.' || c == '+') ? '_' : c;
    if (module.size() > 55)
        return make_error("the module name " + quoted(module) + " (from -n " + name + " and version " +
                          version + ") is longer than the kernel's 55 characters; use a shorter NAME");
    return module;
}

std::string file_name(const std::string &package, const std::string &version)
{
    auto colon = version.find(':');
    return package + "_" + (colon == std::string::npos ? version : version.substr(colon + 1)) + "_amd64.deb";
}

std::string serial_for(std::int64_t epoch_seconds)
{
    std::time_t t = static_cast<std::time_t>(epoch_seconds);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y%m%d%H%M%S", &tm);
    return buf;
}

namespace {

// The exact kernel build: Debian ships it signed (linux-image-KABI) or unsigned.
std::string kernel_dependency(const std::string &release, const std::string &image_version)
{
    return "linux-image-" + release + " (= " + image_version + ") | linux-image-" + release +
           "-unsigned (= " + image_version + ")";
}

// The fields both packages start with.
std::string head(const std::string &package, const std::string &version,
                 const std::string &maintainer, std::uint64_t installed_kib)
{
    return "Package: " + package + "\nVersion: " + version +
           "\nArchitecture: amd64\nSection: kernel\nPriority: optional\nMaintainer: " + maintainer +
           "\nInstalled-Size: " + std::to_string(installed_kib) + "\n";
}

std::string joined(const std::vector<std::string> &words)
{
    std::string out;
    for (const auto &w : words)
        out += (out.empty() ? "" : " ") + w;
    return out;
}

} // namespace

std::string patch_control(const PatchPackage &p)
{
    std::string virt = virtual_name(p.kernel_release);
    std::ostringstream out;
    out << head(package_name(p.name, p.kernel_release), p.version, p.maintainer, p.installed_kib)
        // The core comes prebuilt for this ABI or from DKMS; kpatchctl is in kpatch.
        << "Depends: kpatch, " << kernel_dependency(p.kernel_release, p.image_version) << ", "
        << core_package_name(p.kernel_release) << " | kpatch-dkms\n"
        // Every patch package says when it was built; a cumulative one supersedes (and
        // dpkg removes) every patch package for this ABI built before it, whatever its name.
        << "Provides: " << virt << " (= " << p.serial << ")\n";
    if (p.replace)
        out << "Conflicts: " << virt << " (<< " << p.serial << ")\n"
            << "Replaces: " << virt << " (<< " << p.serial << ")\n";
    out << "Description: live patch " << p.name << " for Linux " << p.kernel_release << "\n";
    std::vector<std::string> body;
    body.push_back("Live patch " + p.module + " for Linux " + p.kernel_release + " (package " +
                   p.image_version + "),");
    body.push_back("build id " + p.build_id + ".");
    body.push_back("Installing it loads the patch into that kernel when it runs, and installs it");
    body.push_back("for kpatchd to load at every boot.");
    if (p.replace)
        body.push_back("Cumulative: it replaces, in one switch, every patch loaded before it.");
    body.push_back("");
    body.push_back("Patches: " + joined(p.patches));
    body.push_back("Functions: " + joined(p.functions));
    for (const auto &line : body)
        out << description_line(line) << "\n";
    return out.str();
}

std::string core_control(const CorePackage &p)
{
    std::ostringstream out;
    out << head(core_package_name(p.kernel_release), p.version, p.maintainer, p.installed_kib)
        << "Depends: " << kernel_dependency(p.kernel_release, p.image_version) << "\n"
        << "Description: kpatch core module for Linux " << p.kernel_release << "\n"
        << " The kpatch core module (kpatch.ko) prebuilt for " << p.kernel_release << " ("
        << p.image_version << "), for\n"
        << " servers without a compiler; kpatch-dkms builds the same module on the server.\n";
    return out.str();
}

} // namespace kpatch::driver::deb
