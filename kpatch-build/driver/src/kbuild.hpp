// Which objects a kernel config builds into vmlinux, read from the kbuild Makefiles
// (licence: GPL-2.0-only).
#pragma once

#include <map>
#include <string>
#include <vector>

#include <kpatch/expected.hpp>

namespace kpatch::driver {

enum class Linkage { Builtin, Module, NotBuilt, Unknown };
const char *to_string(Linkage l);

// A small evaluator of the kbuild idioms that decide linkage: `obj-y`, `obj-m`,
// `obj-$(CONFIG_X)`, composite objects (`foo-y`, `foo-objs`, `foo-$(CONFIG_X)`),
// `lib-y`, directories (`obj-$(CONFIG_X) += dir/`), and `ifdef`/`ifeq` on CONFIG
// values. It is not make: an assignment it cannot evaluate counts as Unknown, and a
// conditional it cannot evaluate leaves both branches live, so it errs toward building
// an object; the differ then finds nothing changed, or a symbol the kernel lacks.
class KbuildConfig {
public:
    static Expected<KbuildConfig> load(const std::string &tree);

    // `fs/proc/cmdline.o` -> Builtin (CONFIG_PROC_FS=y)
    Linkage object(const std::string &object_path) const;
    // `fs/proc` -> Builtin
    Linkage directory(const std::string &dir) const;
    // Why, for notes: the variable that decided (e.g. "CONFIG_PROC_FS=y").
    const std::map<std::string, std::string> &config() const { return config_; }

private:
    struct Token {
        std::string value;               // e.g. "cmdline.o", "proc/"
        bool certain = true;             // every conditional around it was evaluated
    };
    // Final value of every variable of one kbuild file ("obj-y", "proc-y", "obj-"),
    // with make's := / = replacing and += appending, $(var) of the file expanded.
    using Variables = std::map<std::string, std::vector<Token>>;
    const Variables &makefile(const std::string &dir) const;
    std::string expand(const std::string &text, bool &known) const;
    // ifdef/ifndef/ifeq/ifneq REST: 1 true, 0 false, -1 not evaluable here.
    int condition(const std::string &word, const std::string &rest) const;
    // One assignment line of a kbuild file into `vars` (`sure`: no unevaluated condition
    // around it).
    void assign(Variables &vars, const std::string &line, bool sure) const;
    Linkage object_in(const std::string &dir, const std::string &name, int depth) const;

    std::string tree_;
    std::map<std::string, std::string> config_;
    mutable std::map<std::string, Variables> makefiles_;
};

} // namespace kpatch::driver
