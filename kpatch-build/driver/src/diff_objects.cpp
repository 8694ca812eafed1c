// Step "diff objects" (licence: GPL-2.0-only).
#include "diff_objects.hpp"

#include "entry_sizes.hpp"
#include "module_objects.hpp"
#include "module_parts.hpp"
#include "patch_symbols.hpp"
#include "process.hpp"
#include "tools.hpp"

#include <kpatch/diff_exit.hpp>

namespace kpatch::driver {

namespace {

// fs/proc/cmdline.o -> fs-proc-cmdline
std::string flat_name(const std::string &object)
{
    std::string s = object.substr(0, object.rfind('.'));
    for (char &c : s)
        if (c == '/' || c == '.')
            c = '-';
    return s;
}

} // namespace

Expected<std::vector<DiffOutput>> diff_objects(const Context &ctx, const Target &target,
                                               const PreparedTree &tree,
                                               const std::string &core,
                                               const std::vector<ObjectPair> &pairs,
                                               const SymbolSource &symbols,
                                               const std::string &out_dir)
{
    auto tool = find_tool("create-diff-object", "diff", "KPATCH_CREATE_DIFF_OBJECT");
    if (!tool)
        return tool.error();
    // First what each object brings that another may use, so that every differ run knows
    // which undefined names the patch module itself will define.
    auto shared = patch_symbols(pairs);
    if (!shared)
        return shared.error();
    std::string shared_file = out_dir + "/patch-symbols";
    if (!shared->empty()) {
        std::string text;
        for (const auto &n : *shared)
            text += n + "\n";
        if (auto ok = write_text_atomic(shared_file, text); !ok)
            return ok.error();
    }
    // The tree's own entry sizes of special sections (measured once per tree).
    auto entry_sizes = kernel_entry_sizes(ctx, tree, out_dir);
    if (!entry_sizes)
        return entry_sizes.error();
    std::vector<DiffOutput> changed;
    std::vector<std::string> refusals;
    TargetModules modules(ctx, target);
    for (const auto &pair : pairs) {
        std::string base = out_dir + "/" + flat_name(pair.object);
        Command cmd({*tool, "--object-path", pair.object, "--symvers", target.symvers,
                     "--json", base + ".json"});
        // The core's exports (kpatch_shadow_*, for a patch using kpatch-patch.h) stay
        // plain undefined symbols, resolved by the module loader against kpatch.ko.
        cmd.argv.insert(cmd.argv.end(), {"--symvers", core});
        if (!shared->empty())
            cmd.argv.insert(cmd.argv.end(), {"--patch-symbols", shared_file});
        if (!entry_sizes->empty())
            cmd.argv.insert(cmd.argv.end(), {"--entry-sizes", *entry_sizes});
        if (!symbols.option.empty()) {
            cmd.argv.push_back(symbols.option);
            cmd.argv.push_back(symbols.path);
        }
        // A module's part: its symbols and their positions come from the module's own
        // .ko as the target ships it (kallsyms would have them only while it is loaded).
        if (!pair.module.empty()) {
            auto ko = modules.ko(pair.module);
            if (!ko)
                return make_error("cannot patch " + pair.object + " of module " + pair.module +
                                  ": " + ko.error().message);
            cmd.argv.insert(cmd.argv.end(), {"--klp-object", pair.module, "--module-symbols", *ko});
        }
        cmd.argv.insert(cmd.argv.end(), {pair.orig, pair.patched, "-o", base + ".o"});
        cmd.log_file = out_dir + "/diff.log";
        auto out = run(cmd);
        if (!out)
            return out.error();
        auto text = read_text(base + ".json");
        nlohmann::json manifest = text ? nlohmann::json::parse(*text, nullptr, false)
                                       : nlohmann::json();
        // The differ met a name the module has more than once: the module's objects in
        // link order tell which copy is meant; built only now, as most patches never ask.
        if (out->status == diff_exit::kError && !pair.module.empty() && manifest.is_object() &&
            manifest.contains("module_objects_needed")) {
            auto kbuild = modules.kbuild_path(pair.module);
            if (!kbuild)
                return kbuild.error();
            std::string list = out_dir + "/objects-" + pair.module;
            if (!exists(list))
                if (auto ok = write_module_objects(ctx, tree, *kbuild,
                                                   out_dir + "/module-" + pair.module, list);
                    !ok)
                    return make_error("cannot tell which of module " + pair.module +
                                      "'s same-named symbols " + pair.object + " means: " +
                                      ok.error().message);
            cmd.argv.insert(cmd.argv.end(), {"--module-objects", list}); // options go anywhere
            out = run(cmd);
            if (!out)
                return out.error();
            text = read_text(base + ".json");
            manifest = text ? nlohmann::json::parse(*text, nullptr, false) : nlohmann::json();
        }
        switch (out->status) {
        case diff_exit::kChanged:
            changed.push_back({pair.object, base + ".o", manifest, pair.module});
            break;
        case diff_exit::kUnchanged:
            break;
        case diff_exit::kRefused: {
            std::string reason;
            if (manifest.is_object())
                for (const auto &r : manifest.value("refusals", nlohmann::json::array()))
                    reason += (reason.empty() ? "" : "; ") +
                              (r.is_string() ? r.get<std::string>() : r.dump());
            if (reason.empty())
                reason = trim(tail_lines(out->output, 5));
            refusals.push_back(pair.object + ": " + reason);
            break;
        }
        default:
            return make_error("create-diff-object failed on " + pair.object + " (exit " +
                              std::to_string(out->status) + "):\n" + trim(tail_lines(out->output, 15)));
        }
        // The differ's warnings matter to the user (e.g. a symbol table was needed).
        if (manifest.is_object())
            for (const auto &w : manifest.value("warnings", nlohmann::json::array()))
                ctx.note(pair.object + ": " + (w.is_string() ? w.get<std::string>() : w.dump()));
    }
    if (!refusals.empty()) {
        std::string msg = "the patch cannot be applied live:";
        for (const auto &r : refusals)
            msg += "\n  " + r;
        return Error{msg, kExitUnsupported};
    }
    if (changed.empty())
        return Error{"the patch changes no code that runs: " + std::to_string(pairs.size()) +
                         " object(s) compared, no function changed",
                     kExitNoChange};
    return changed;
}

} // namespace kpatch::driver
