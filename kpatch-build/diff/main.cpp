// create-diff-object: argv -> Options, one call to the differ, errors -> messages and exit codes (licence: GPL-2.0-only).
//
//   create-diff-object [options] ORIG.o PATCHED.o -o OUT.o
//   create-diff-object ORIG.o PATCHED.o PARENT-NAME SYMTAB MODULE.SYMVERS PATCH-NAME OUT.o  (kpatch's form)
// Exit codes (kpatch's): 0 changed code written, 1 error, 2 refused (cannot be live-patched),
// 3 nothing changed.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <optional>
#include <variant>
#include <string>
#include <vector>

#include "diff/diff.hpp"
#include "diff/huge_heap.hpp"
#include "diff/kernel_resolver.hpp"

#include <kpatch/diff_exit.hpp>

#include <nlohmann/json.hpp>

namespace {

constexpr int exit_error = kpatch::diff_exit::kError;
// The outcome is the exit code: one set of numbers (common/), shared with kpatch-build.
static_assert(static_cast<int>(kpatch::diff::Outcome::Changed) == kpatch::diff_exit::kChanged);
static_assert(static_cast<int>(kpatch::diff::Outcome::Refused) == kpatch::diff_exit::kRefused);
static_assert(static_cast<int>(kpatch::diff::Outcome::Unchanged) == kpatch::diff_exit::kUnchanged);

struct Config {
    std::string orig, patched, output, json, object_path, symbols_file, symvers, klp_object = "vmlinux";
    std::string module_symbols;                // --module-symbols: the target module's .ko
    std::string module_objects;                // --module-objects: its objects in link order
    std::string patch_symbols;   // file: names other objects of the patch define, one a line
    std::string entry_sizes;     // file: the kernel tree's entry sizes, {section: bytes}
    std::vector<std::string> module_symvers;   // --symvers again: modules' exports (the core's)
    bool json_pretty = true;
};

const char usage[] =
    "Usage: create-diff-object [options] ORIG.o PATCHED.o -o OUT.o\n"
    "       create-diff-object ORIG.o PATCHED.o PARENT-NAME SYMTAB MODULE.SYMVERS PATCH-NAME OUT.o\n"
    "Options:\n"
    "  -o, --output FILE       the patch object to write\n"
    "  --object-path PATH      the object's path in the kernel tree (e.g. fs/proc/cmdline.o)\n"
    "  --kallsyms FILE         the target's /proc/kallsyms (which copy of a local name)\n"
    "  --vmlinux FILE          an unstripped vmlinux instead of --kallsyms\n"
    "  --symvers FILE          the target's Module.symvers (what is exported); given again,\n"
    "                          a module's (e.g. kpatch.ko's: kpatch_shadow_* stay undefined)\n"
    "  --json FILE             write a manifest of what was found ('-' for stdout)\n"
    "  --klp-object NAME       livepatch object name (default vmlinux): the module the\n"
    "                          object belongs to, e.g. ext4\n"
    "  --module-symbols FILE   that module's .ko as the target kernel ships it (its own\n"
    "                          symbols and their positions)\n"
    "  --module-objects FILE   that module's objects in link order, one \"OBJECT<TAB>PATH\"\n"
    "                          line each (OBJECT as in kbuild's <module>.mod): which copy\n"
    "                          of a name the module has several times is this object's\n"
    "  --patch-symbols FILE    names (one a line) that other objects of the same patch\n"
    "                          define: references to them are linked inside the module\n"
    "  --entry-sizes FILE      a JSON object {\"SECTION\": BYTES} of special-section entry\n"
    "                          sizes measured in the kernel tree (kpatch-build makes it)\n"
    "  -h, --help, --version\n"
    "Exit: 0 changed, 1 error, 2 cannot be live-patched, 3 nothing changed.\n";

// Returns the config, or an exit code to leave with.
std::variant<Config, int> parse(int argc, char **argv)
{
    Config c;
    std::vector<std::string> pos;
    for (int i = 1; i < argc; i++) {
        std::string a = argv[i];
        std::string value;
        auto take = [&](const char *name, std::string &dst) {
            std::string n = name;
            if (a == n) {
                if (i + 1 >= argc) {
                    std::fprintf(stderr, "create-diff-object: %s needs an argument\n", name);
                    return -1;
                }
                dst = argv[++i];
                return 1;
            }
            if (a.rfind(n + "=", 0) == 0) {
                dst = a.substr(n.size() + 1);
                return 1;
            }
            return 0;
        };
        int r = take("--symvers", value);
        if (r > 0) {
            (c.symvers.empty() ? c.symvers : c.module_symvers.emplace_back()) = value;
            continue;
        }
        for (auto [name, dst] : {std::pair{"-o", &c.output}, {"--output", &c.output},
                                 {"--object-path", &c.object_path}, {"--kallsyms", &c.symbols_file},
                                 {"--vmlinux", &c.symbols_file},
                                 {"--json", &c.json}, {"--klp-object", &c.klp_object},
                                 {"--module-symbols", &c.module_symbols},
                                 {"--module-objects", &c.module_objects},
                                 {"--patch-symbols", &c.patch_symbols},
                                 {"--entry-sizes", &c.entry_sizes}}) {
            if (r < 0 || (r = take(name, *dst)) != 0)
                break;
        }
        if (r < 0)
            return exit_error;
        if (r > 0)
            continue;
        if (a == "-h" || a == "--help") {
            std::fputs(usage, stdout);
            return 0;
        }
        if (a == "--version") {
            std::printf("create-diff-object %s\n", KPATCH_VERSION);
            return 0;
        }
        if (a.size() > 1 && a[0] == '-') {
            std::fprintf(stderr, "create-diff-object: unknown option '%s'\n%s", a.c_str(), usage);
            return exit_error;
        }
        pos.push_back(a);
    }
    if (pos.size() == 7 && c.output.empty()) {
        // kpatch: ORIG PATCHED PARENT-NAME SYMTAB MODULE.SYMVERS PATCH-NAME OUTPUT
        c.orig = pos[0];
        c.patched = pos[1];
        c.klp_object = pos[2];
        c.symbols_file = pos[3];
        c.symvers = pos[4];
        c.output = pos[6];
    } else if (pos.size() == 2 && !c.output.empty()) {
        c.orig = pos[0];
        c.patched = pos[1];
    } else {
        std::fputs(usage, stderr);
        return exit_error;
    }
    if (c.object_path.empty())
        c.object_path = c.orig;
    return c;
}


void write_json(const Config &c, const std::string &text)
{
    if (c.json.empty())
        return;
    if (c.json == "-") {
        std::fputs(text.c_str(), stdout);
        return;
    }
    std::ofstream f(c.json);
    f << text;
    if (!f)
        std::fprintf(stderr, "create-diff-object: cannot write %s\n", c.json.c_str());
}

// kpatch-build passes special-section entry sizes in the environment (overrides; the
// differ finds them itself otherwise).
kpatch::diff::EntrySizes sizes_from_environment()
{
    kpatch::diff::EntrySizes sizes;
    for (auto &[var, section] : kpatch::diff::entry_size_variables())
        if (const char *v = std::getenv(var.c_str()); v && *v)
            if (unsigned long n = std::strtoul(v, nullptr, 0); n > 0 && n < 4096)
                sizes[section] = static_cast<unsigned>(n);
    return sizes;
}

int run(const Config &c)
{
    using namespace kpatch;
    diff::Options opt;
    opt.object_path = c.object_path;
    opt.klp_object = c.klp_object;
    opt.entry_sizes = sizes_from_environment();
    if (!c.entry_sizes.empty()) {
        auto sizes = diff::read_entry_sizes(c.entry_sizes);
        if (!sizes) {
            std::fprintf(stderr, "create-diff-object: %s\n", sizes.error().message.c_str());
            return exit_error;
        }
        opt.kernel_entry_sizes = std::move(*sizes);
    }
    if (!c.patch_symbols.empty()) {
        std::ifstream f(c.patch_symbols);
        if (!f) {
            std::fprintf(stderr, "create-diff-object: cannot read %s\n", c.patch_symbols.c_str());
            return exit_error;
        }
        for (std::string line; std::getline(f, line);)
            if (!line.empty())
                opt.patch_symbols.insert(line);
    }
    if (!c.symbols_file.empty())
        diff::reserve_huge_heap(64u << 20);
    auto resolver = diff::KernelResolver::load(c.symbols_file, c.symvers, c.object_path,
                                               c.module_symvers);
    if (resolver && !c.module_symbols.empty())
        if (auto ok = (*resolver)->load_module(c.klp_object, c.module_symbols); !ok) {
            std::fprintf(stderr, "create-diff-object: %s\n", ok.error().message.c_str());
            return exit_error;
        }
    if (resolver && !c.module_objects.empty())
        if (auto ok = (*resolver)->load_link_order(c.module_objects); !ok) {
            std::fprintf(stderr, "create-diff-object: %s\n", ok.error().message.c_str());
            return exit_error;
        }
    if (!resolver) {
        std::fprintf(stderr, "create-diff-object: %s\n", resolver.error().message.c_str());
        return exit_error;
    }
    // Left for the exit to free: the ~100,000 names of a kallsyms took a fifth of a small
    // object's time in free() (bench/diff-objects.sh).
    const diff::KernelResolver *symbols = resolver->release();
    opt.symbols = symbols;
    auto orig = elf::read_object(c.orig);
    if (!orig) {
        std::fprintf(stderr, "create-diff-object: %s\n", orig.error().message.c_str());
        return exit_error;
    }
    auto patched = elf::read_object(c.patched);
    if (!patched) {
        std::fprintf(stderr, "create-diff-object: %s\n", patched.error().message.c_str());
        return exit_error;
    }
    auto result = diff::run_diff(**orig, **patched, opt);
    if (!result) {
        std::fprintf(stderr, "create-diff-object: %s: %s\n", c.object_path.c_str(),
                     result.error().message.c_str());
        // kpatch-build builds the module's other objects only when this asks for them.
        if (const auto &names = symbols->link_order_needed(); !names.empty())
            write_json(c, nlohmann::json{{"error", result.error().message},
                                         {"module_objects_needed", names}}.dump(2) + "\n");
        return exit_error;
    }
    for (auto &w : result->warnings)
        std::fprintf(stderr, "create-diff-object: %s: warning: %s\n", c.object_path.c_str(), w.c_str());
    int code = static_cast<int>(result->outcome);
    if (result->outcome == diff::Outcome::Refused)
        for (auto &r : result->refusals)
            std::fprintf(stderr, "create-diff-object: %s: %s\n", c.object_path.c_str(), r.c_str());
    if (result->outcome == diff::Outcome::Unchanged)
        std::fprintf(stderr, "create-diff-object: %s: no changed functions\n", c.object_path.c_str());
    if (result->outcome == diff::Outcome::Changed) {
        if (auto w = elf::write_object(*result->output, c.output); !w) {
            std::fprintf(stderr, "create-diff-object: %s\n", w.error().message.c_str());
            return exit_error;
        }
    }
    write_json(c, diff::manifest_json(*result, opt, true));
    return code;
}

} // namespace

int main(int argc, char **argv)
{
    auto parsed = parse(argc, argv);
    if (auto *code = std::get_if<int>(&parsed))
        return *code;
    return run(std::get<Config>(parsed));
}
