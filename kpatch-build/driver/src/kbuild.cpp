// Which objects a kernel config builds into vmlinux (licence: GPL-2.0-only).
#include "kbuild.hpp"

#include <algorithm>
#include <filesystem>
#include <sstream>

#include "arch/kernel_layout.hpp"
#include "context.hpp"

namespace kpatch::driver {

namespace fs = std::filesystem;

const char *to_string(Linkage l)
{
    switch (l) {
    case Linkage::Builtin: return "built in";
    case Linkage::Module: return "a module";
    case Linkage::NotBuilt: return "not built";
    case Linkage::Unknown: return "unknown";
    }
    return "?";
}

Expected<KbuildConfig> KbuildConfig::load(const std::string &tree)
{
    KbuildConfig k;
    k.tree_ = tree;
    auto text = read_text(tree + "/.config");
    if (!text)
        return text.error();
    std::istringstream in(*text);
    for (std::string line; std::getline(in, line);) {
        if (line.empty() || line[0] == '#')
            continue;
        size_t eq = line.find('=');
        if (eq != std::string::npos)
            k.config_[line.substr(0, eq)] = line.substr(eq + 1);
    }
    k.config_["SRCARCH"] = arch::host_kernel_layout().srcarch;
    k.config_["BITS"] = arch::host_kernel_layout().bits;
    return k;
}

// Replaces $(CONFIG_X), $(SRCARCH) and $(BITS); anything else makes `known` false.
std::string KbuildConfig::expand(const std::string &text, bool &known) const
{
    std::string out;
    for (size_t i = 0; i < text.size();) {
        if (text.compare(i, 2, "$(") == 0) {
            size_t close = text.find(')', i);
            if (close == std::string::npos) {
                known = false;
                break;
            }
            std::string var = text.substr(i + 2, close - i - 2);
            auto it = config_.find(var);
            if (it != config_.end())
                out += it->second;
            else if (!var.starts_with("CONFIG_"))
                known = false; // a make variable we do not model
            i = close + 1;
        } else {
            out += text[i++];
        }
    }
    return out;
}

int KbuildConfig::condition(const std::string &word, const std::string &rest) const
{
    if (word == "ifdef" || word == "ifndef") {
        if (!rest.starts_with("CONFIG_"))
            return -1;
        auto it = config_.find(rest);
        bool defined = it != config_.end() && !it->second.empty();
        return defined == (word == "ifdef");
    }
    // ifeq (a,b) / ifneq (a,b); the quoted forms are rare in kbuild files.
    if (!rest.starts_with("(") || !rest.ends_with(")"))
        return -1;
    std::string inner = rest.substr(1, rest.size() - 2);
    size_t comma = inner.find(',');
    if (comma == std::string::npos)
        return -1;
    bool known = true;
    std::string a = trim(expand(inner.substr(0, comma), known));
    std::string b = trim(expand(inner.substr(comma + 1), known));
    if (!known)
        return -1;
    return (a == b) == (word == "ifeq");
}

void KbuildConfig::assign(Variables &vars, const std::string &l, bool sure) const
{
    size_t op = l.find_first_of(":+?=");
    if (op == std::string::npos || op == 0)
        return;
    size_t eq = l.find('=', op);
    if (eq == std::string::npos || eq > op + 2)
        return;
    std::string kind = l.substr(op, eq - op + 1);
    bool known = true;
    std::string lhs = trim(expand(l.substr(0, op), known));
    sure = sure && known;
    std::vector<Token> values;
    std::istringstream words(l.substr(eq + 1));
    for (std::string v; words >> v;) {
        // $(var) of this file: its tokens so far (kbuild files use := mostly).
        std::string ref = v.starts_with("$(") && v.ends_with(")") ? v.substr(2, v.size() - 3) : "";
        if (!ref.empty() && vars.count(ref)) {
            for (Token t : vars[ref]) {
                t.certain = t.certain && sure;
                values.push_back(t);
            }
            continue;
        }
        bool k = true;
        std::string e = expand(v, k);
        if (!e.empty())
            values.push_back({e, sure});
    }
    std::vector<Token> &var = vars[lhs];
    // Only a certain := or = replaces; an uncertain one might not have run.
    if ((kind == ":=" || kind == "=") && sure)
        var.clear();
    if (kind == "?=" && !var.empty())
        return;
    var.insert(var.end(), values.begin(), values.end());
}

// Reads dir/Kbuild or dir/Makefile once: continuation lines joined, comments dropped,
// conditionals on CONFIG values evaluated (1/0; -1 leaves both branches live but
// uncertain), assignments kept.
const KbuildConfig::Variables &KbuildConfig::makefile(const std::string &dir) const
{
    auto found = makefiles_.find(dir);
    if (found != makefiles_.end())
        return found->second;
    Variables &out = makefiles_[dir];
    std::string base = dir.empty() ? tree_ : tree_ + "/" + dir;
    auto text = read_text(base + "/Kbuild");
    if (!text)
        text = read_text(base + "/Makefile");
    if (!text)
        return out;

    std::vector<int> stack;
    std::string joined, line;
    std::istringstream in(*text);
    while (std::getline(in, line)) {
        if (!line.empty() && line.back() == '\\') {
            line.pop_back();
            joined += line + " ";
            continue;
        }
        std::string l = joined + line;
        joined.clear();
        if (size_t hash = l.find('#'); hash != std::string::npos)
            l.resize(hash);
        l = trim(l);
        if (l.empty())
            continue;
        std::string word = l.substr(0, l.find_first_of(" \t("));
        std::string rest = word.size() < l.size() ? trim(l.substr(word.size())) : "";
        if (word == "ifdef" || word == "ifndef" || word == "ifeq" || word == "ifneq") {
            stack.push_back(condition(word, rest));
        } else if (word == "else") {
            // "else ifeq ..." chains are rare in kbuild files: that branch is uncertain.
            if (!stack.empty())
                stack.back() = !rest.empty() || stack.back() < 0 ? -1 : !stack.back();
        } else if (word == "endif") {
            if (!stack.empty())
                stack.pop_back();
        } else if (std::find(stack.begin(), stack.end(), 0) == stack.end()) {
            assign(out, l, std::find(stack.begin(), stack.end(), -1) == stack.end());
        }
    }
    return out;
}

namespace {

Linkage merge(Linkage a, Linkage b)
{
    auto rank = [](Linkage l) {
        switch (l) {
        case Linkage::Builtin: return 3;
        case Linkage::Unknown: return 2;
        case Linkage::Module: return 1;
        case Linkage::NotBuilt: return 0;
        }
        return 0;
    };
    return rank(a) >= rank(b) ? a : b;
}

// "obj-y" -> Builtin, "obj-m" -> Module, "obj-" / "obj-n" -> NotBuilt.
Linkage from_suffix(const std::string &suffix)
{
    if (suffix == "y")
        return Linkage::Builtin;
    if (suffix == "m")
        return Linkage::Module;
    return Linkage::NotBuilt;
}

} // namespace

// `name` (e.g. "cmdline.o" or "proc/") as listed in `dir`'s kbuild file.
Linkage KbuildConfig::object_in(const std::string &dir, const std::string &name, int depth) const
{
    if (depth > 4)
        return Linkage::Unknown;
    Linkage result = Linkage::NotBuilt;
    bool seen = false;
    for (const auto &[lhs, tokens] : makefile(dir)) {
        const Token *hit = nullptr;
        for (const auto &t : tokens)
            if (t.value == name && (!hit || t.certain))
                hit = &t;
        if (!hit)
            continue;
        size_t dash = lhs.rfind('-');
        if (dash == std::string::npos)
            continue;
        std::string var = lhs.substr(0, dash), suffix = lhs.substr(dash + 1);
        Linkage l;
        if (var == "obj" || var == "lib" || var == "core" || var == "libs" || var == "drivers")
            l = from_suffix(suffix);
        else if (var == "extra" || var == "head")
            l = suffix == "y" ? Linkage::Builtin : Linkage::NotBuilt;
        else if (var == "targets" || var == "hostprogs" || var == "always" || var == "userprogs" ||
                 var == "subdir" || var == "clean" || var == "CFLAGS" || var.starts_with("CFLAGS_"))
            continue;
        else {
            // Part of a composite object `var.o`: built in when the composite is, for
            // -y/-objs parts; -m parts only count in a module.
            Linkage whole = object_in(dir, var + ".o", depth + 1);
            if (suffix == "y" || suffix == "objs")
                l = whole;
            else if (suffix == "m")
                l = whole == Linkage::Module ? Linkage::Module : Linkage::NotBuilt;
            else
                l = Linkage::NotBuilt;
        }
        if (!hit->certain && l != Linkage::NotBuilt)
            l = Linkage::Unknown;
        result = seen ? merge(result, l) : l;
        seen = true;
    }
    return seen ? result : Linkage::NotBuilt;
}

Linkage KbuildConfig::directory(const std::string &dir) const
{
    if (dir.empty())
        return Linkage::Builtin;
    // The nearest ancestor whose kbuild file lists the directory decides: usually the
    // parent ("obj-$(CONFIG_PROC_FS) += proc/" in fs/Makefile), sometimes further up
    // ("obj-y += arch/$(SRCARCH)/" in the root Kbuild). lib/ and arch/$(SRCARCH)/lib/ come from
    // libs-y in the top Makefile.
    std::string rel = dir + "/";
    for (fs::path parent = fs::path(dir).parent_path();; parent = parent.parent_path()) {
        std::string p = parent.string();
        std::string name = p.empty() ? rel : rel.substr(p.size() + 1);
        bool listed = false;
        for (const auto &[lhs, tokens] : makefile(p))
            for (const auto &t : tokens)
                listed |= t.value == name;
        if (listed) {
            Linkage l = object_in(p, name, 0);
            if (l == Linkage::NotBuilt)
                return l;
            Linkage up = directory(p);
            if (up == Linkage::NotBuilt || up == Linkage::Module)
                return up;
            return l == Linkage::Builtin && up == Linkage::Unknown ? Linkage::Unknown : l;
        }
        if (p.empty())
            return dir == "lib" || dir == arch::host_kernel_layout().arch_dir() + "/lib" ? Linkage::Builtin
                                                                                    : Linkage::Unknown;
    }
}

Linkage KbuildConfig::object(const std::string &object_path) const
{
    fs::path p(object_path);
    std::string dir = p.parent_path().string();
    Linkage here = object_in(dir, p.filename().string(), 0);
    if (here == Linkage::NotBuilt)
        return here;
    Linkage d = directory(dir);
    if (d == Linkage::NotBuilt)
        return d;
    if (d == Linkage::Module)
        return Linkage::Module;
    if (d == Linkage::Unknown && here == Linkage::Builtin)
        return Linkage::Unknown;
    return here;
}

} // namespace kpatch::driver
