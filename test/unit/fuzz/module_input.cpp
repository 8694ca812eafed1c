// Mutated patch modules for the loader fuzzer (licence: GPL-2.0-only).
#include "module_input.hpp"

#include "elf_image.hpp"
#include "json_mutate.hpp"

#include <fmt/format.h>

namespace kpatch::fuzz {

namespace {

// What kpatch-build puts in a patch module, as editable parts.
struct ModuleParts {
    std::vector<std::string> modinfo;  // "key=value", NUL-separated when built
    bool modinfo_terminated = true;
    std::string this_module;
    std::string manifest;
    bool has_manifest = true;
    std::vector<Section> extra;

    std::string build() const
    {
        std::string info;
        for (size_t i = 0; i < modinfo.size(); ++i)
            info += modinfo[i] + (i + 1 < modinfo.size() || modinfo_terminated ? std::string(1, '\0') : "");
        std::vector<Section> s = {{".text", 1, std::string("\x31\xc0\xc3", 3)}, {".modinfo", 1, info},
                                  {".gnu.linkonce.this_module", 1, this_module}};
        if (has_manifest)
            s.push_back({".kpatch.manifest", 1, manifest + std::string(1, '\0')});
        s.insert(s.end(), extra.begin(), extra.end());
        return build_elf(s);
    }
};

ModuleParts valid_parts(const std::string &name, const std::string &release)
{
    ModuleParts p;
    p.modinfo = {"license=GPL", "name=" + name, "vermagic=" + release + " SMP preempt mod_unload modversions "};
    p.this_module = std::string(24, '\0') + name + std::string(56 - name.size(), '\0') + std::string(64, '\0');
    p.manifest = fmt::format(R"({{"format":1,"name":"{}","kernel_release":"{}","build_id":"0123abcd","patch_sha256":"feedbeef",)"
                             R"("replaced":[{{"name":"cmdline_proc_show","sympos":0,"object":"vmlinux"}},{{"name":"s_show","sympos":2}}],)"
                             R"("new":[{{"name":"kpatch_helper"}}],"hooks":{{"pre_patch":"fuzz_pre"}},)"
                             R"("reviewed":[{{"function":"s_show","reason":"fuzz","waived":["a refusal"]}}]}})",
                             name, release);
    return p;
}

void mutate_modinfo(ModuleParts &p, Rng &rng, std::string &what)
{
    static const std::vector<std::string> entries = {
        "name=", "name=" + std::string(300, 'n'), "name=a/b", "name=..", "name=kpatch fuzz", "name=order",
        "vermagic=", "vermagic= ", "vermagic=" + std::string(100000, 'v'), "noequals", "=", "",
        "kpatch_kernel=6.1.0-56-amd64", "kpatch_replaced=,,, a,99999999999999999999999 ,-1 b, ,",
        "kpatch_new=,x ,,", "kpatch_build_id=", std::string(1 << 20, 'k') + "=v"};
    switch (rng.below(4)) {
    case 0:
        p.modinfo.erase(p.modinfo.begin() + rng.below(p.modinfo.size()));
        what += " modinfo entry dropped";
        break;
    case 1:
        p.modinfo_terminated = false;
        what += " modinfo unterminated";
        break;
    default: {
        const std::string &e = rng.pick(entries);
        p.modinfo.insert(p.modinfo.begin() + rng.below(p.modinfo.size() + 1), e);
        what += fmt::format(" modinfo +'{}'", e.substr(0, 40));
    }
    }
}

void mutate_parts(ModuleParts &p, Rng &rng, std::string &what)
{
    switch (rng.below(8)) {
    case 0: case 1: case 2:
        what += " manifest:";
        p.manifest = mutate_json(p.manifest, rng, what);
        break;
    case 3:
        mutate_modinfo(p, rng, what);
        break;
    case 4: {
        static const std::vector<size_t> sizes = {0, 1, 23, 24, 25, 40, 200};
        size_t n = rng.pick(sizes);
        p.this_module = rng.percent(50) ? p.this_module.substr(0, n) : std::string(24, '\0') + std::string(n, 'm');
        what += fmt::format(" this_module {} bytes", p.this_module.size());
        break;
    }
    case 5:
        p.has_manifest = false;
        what += " no manifest";
        break;
    case 6: {
        // A section of ours twice, or as NOBITS (no data in the file).
        static const std::vector<std::string> names = {".modinfo", ".kpatch.manifest", ".gnu.linkonce.this_module"};
        const std::string &n = rng.pick(names);
        bool nobits = rng.percent(50);
        p.extra.push_back({n, nobits ? 8u : 1u, nobits ? std::string(64, 'x') : std::string("name=second\0{\"replaced\":7}", 26)});
        what += fmt::format(" extra {} {}", nobits ? "NOBITS" : "copy of", n);
        break;
    }
    default:
        // Bigger than the manifest limit, still valid JSON.
        p.manifest = "{" + std::string((4 << 20) + 1, ' ') + "}";
        what += " manifest over 4 MiB";
    }
}

} // namespace

std::string synthetic_module(const std::string &name, const std::string &release)
{
    return valid_parts(name, release).build();
}

std::string mutated_module(const Fixtures &fixtures, const std::string &release, Rng &rng, std::string &what)
{
    std::string image;
    int raw_edits = 0;
    if (!fixtures.empty() && rng.percent(40)) {
        const auto &[file, bytes] = fixtures[rng.below(fixtures.size())];
        image = bytes;
        what += "fixture " + file + ":";
        raw_edits = 1 + rng.below(3);
    } else {
        ModuleParts p = valid_parts("kpatch_fuzz", release);
        std::string edits;
        for (int n = 1 + rng.below(2); n > 0; --n)
            mutate_parts(p, rng, edits);
        image = p.build();
        what += "synthetic:" + edits;
        raw_edits = rng.percent(25) ? 1 : 0;
    }
    for (; raw_edits > 0; --raw_edits)
        mutate_elf(image, rng, what);
    return image;
}

} // namespace kpatch::fuzz
