// kpatchctl's verb handlers: call the loader once, render the result as text or JSON (licence: GPL-2.0-only).
#include "verbs.hpp"

#include <kpatch/loader/json.hpp>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <csignal>
#include <cstdlib>
#include <ostream>
#include <unistd.h>

namespace kpatch::ctl {

using namespace kpatch::loader;

namespace {

// Renders a successful result: JSON when asked, else TEXT unless -q.
template <typename T, typename TextFn>
int emit(const Options &o, Io &io, const T &result, TextFn text)
{
    if (o.json != JsonMode::off)
        print_json(io.out, nlohmann::json(result), o.json);
    else if (!o.quiet)
        text(io.out);
    return 0;
}

std::string release_for(const Options &o, const Context &ctx)
{
    return o.kernel_release.empty() ? kernel_release(ctx.config) : o.kernel_release;
}

void print_functions(std::ostream &out, const std::vector<FunctionState> &fns)
{
    for (const auto &f : fns)
        out << fmt::format("    {}:{}{}{}{}\n", f.object, f.name, f.sympos ? fmt::format(",{}", f.sympos) : "",
                           f.old_addr.empty() ? "" : fmt::format(" {} -> {}", f.old_addr, f.new_addr),
                           f.active ? "" : " (superseded by a newer patch)");
}

// "vmlinux applied, ext4 pending": what each patched object is doing now.
std::string objects_line(const std::vector<ObjectState> &objects)
{
    std::string out;
    for (const auto &obj : objects)
        out += fmt::format("{}{} {}", out.empty() ? "" : ", ", obj.name, obj.state);
    return out;
}

} // namespace

int verb_load(const Verb &, const Options &o, Context &ctx, Io &io)
{
    auto r = load(ctx, o.args[0]);
    if (!r)
        return report(r.error(), o, io);
    return emit(o, io, *r, [&](std::ostream &out) {
        if (r->core_loaded)
            out << "Loaded the kpatch core module\n";
        out << fmt::format("Loaded patch '{}' from {}{}\n", r->name, r->path,
                           r->attempts > 1 ? fmt::format(" (attempt {})", r->attempts) : "");
        if (!r->nudged.empty())
            out << fmt::format("Nudged {} task{} asleep in a replaced function (woken to restart its system call): {}\n",
                               r->nudged.size(), r->nudged.size() == 1 ? "" : "s", fmt::join(r->nudged, ", "));
        for (const auto &n : r->replaced)
            out << fmt::format("Replaced patch '{}' (cumulative patch '{}')\n", n, r->name);
        for (const auto &e : r->unload_errors)
            out << e << "\n";
    });
}

int verb_unload(const Verb &, const Options &o, Context &ctx, Io &io)
{
    auto r = o.all ? unload_all(ctx) : unload(ctx, o.args[0]);
    if (!r)
        return report(r.error(), o, io);
    emit(o, io, *r, [&](std::ostream &out) {
        if (r->items.empty())
            out << "No patches loaded\n";
        for (const auto &i : r->items)
            if (i.ok)
                out << fmt::format("Unloaded patch '{}'\n", i.name);
    });
    if (!r->error)
        return 0;
    for (const auto &i : r->items)  // every failure, not only the first
        if (!i.ok)
            io.err << i.error << "\n";
    return r->error->code ? r->error->code : kFailed;
}

int verb_list(const Verb &, const Options &o, Context &ctx, Io &io)
{
    auto r = list(ctx);
    if (!r)
        return report(r.error(), o, io);
    return emit(o, io, *r, [&](std::ostream &out) {
        if (r->patches.empty()) {
            out << "No patches loaded or installed\n";
            return;
        }
        out << fmt::format("{:<28} {:<10} {:<20} {:>5} {:>9} {:>9}\n", "NAME", "STATE", "KERNEL", "ORDER", "INSTALLED", "FUNCTIONS");
        for (const auto &e : r->patches) {
            out << fmt::format("{:<28} {:<10} {:<20} {:>5} {:>9} {:>9}\n", e.name, to_string(e.state), e.kernel_release,
                               e.loaded ? std::to_string(e.order) : "-",
                               e.installed ? fmt::format("#{}", e.install_position) : "no",
                               e.loaded ? std::to_string(e.functions.size()) : "-");
            if (!e.objects.empty() && (o.verbose || e.objects.size() > 1 || e.objects[0].name != "vmlinux"))
                out << "    objects: " << objects_line(e.objects) << "\n";
            if (o.verbose)
                print_functions(out, e.functions);
            if (!e.replaced_by.empty())
                out << "    replaced by: " << e.replaced_by << "\n";
            if (!e.replaced_patches.empty())
                out << "    replaced: " << fmt::format("{}", fmt::join(e.replaced_patches, ", ")) << "\n";
            if (!e.error.empty() && (o.verbose || e.state == ListState::Failed))
                out << "    error: " << e.error << "\n";
        }
    });
}

// Test hook for crash tests: with KPATCH_CTL_CRASH_AT=STEP in the environment, kpatchctl
// dies of SIGKILL right after the store's durable step STEP ("renamed:order", ...), as an
// OOM kill or a power cut between two steps would leave it. Only the caller's own
// process is affected, so the variable grants nothing.
Store::StepHook crash_hook()
{
    const char *at = std::getenv("KPATCH_CTL_CRASH_AT");
    if (!at || !*at)
        return {};
    return [step = std::string(at)](std::string_view reached) {
        if (reached == step)
            ::kill(::getpid(), SIGKILL);
    };
}

int verb_install(const Verb &, const Options &o, Context &ctx, Io &io)
{
    auto r = install(ctx, o.args[0], release_for(o, ctx), crash_hook());
    if (!r)
        return report(r.error(), o, io);
    return emit(o, io, *r, [&](std::ostream &out) {
        out << fmt::format("{} patch '{}' for {} (load order {}): {}\n", r->replaced ? "Replaced" : "Installed",
                           r->patch.name, r->patch.kernel_release, r->patch.position, r->patch.path.string());
        if (!r->replaces.empty())
            out << fmt::format("It is cumulative: uninstalled the patches installed before it: {}\n",
                               fmt::join(r->replaces, ", "));
    });
}

int verb_uninstall(const Verb &, const Options &o, Context &ctx, Io &io)
{
    auto r = uninstall(ctx, o.args[0], release_for(o, ctx));
    if (!r)
        return report(r.error(), o, io);
    bool loaded = r->kernel_release == kernel_release(ctx.config) && bool(read_patch(ctx.config, r->name));
    return emit(o, io, *r, [&](std::ostream &out) {
        out << fmt::format("Uninstalled patch '{}' for {}\n", r->name, r->kernel_release);
        if (loaded)
            out << fmt::format("It is still loaded; 'kpatchctl unload {}' removes it from the running kernel\n", r->name);
    });
}

int verb_info(const Verb &, const Options &o, Context &ctx, Io &io)
{
    auto r = info(ctx, o.args[0]);
    if (!r)
        return report(r.error(), o, io);
    return emit(o, io, *r, [&](std::ostream &out) {
        out << fmt::format("Name:           {}\nFile:           {}\nVermagic:       {}\n", r->name, r->path, r->vermagic);
        out << fmt::format("Kernel release: {}\n", r->kernel_release.empty() ? r->release : r->kernel_release);
        out << fmt::format("Build id:       {}\n", r->build_id.empty() ? "(not recorded)" : r->build_id);
        out << fmt::format("Patch sha256:   {}\n", r->patch_hash.empty() ? "(not recorded)" : r->patch_hash);
        out << fmt::format("Signature:      {}\n", r->is_signed ? "appended" : "none");
        if (r->replace)
            out << "Cumulative:     yes (replaces every patch loaded or installed before it)\n";
        if (!r->has_manifest)
            out << "Functions:      (no .kpatch.manifest: not built by kpatch-build)\n";
        for (const auto &f : r->replaced)
            out << fmt::format("Replaces:       {}{}{}\n", f.name, f.sympos ? fmt::format(",{}", f.sympos) : "",
                               f.object == "vmlinux" ? "" : " in " + f.object);
        for (const auto &f : r->added)
            out << fmt::format("Adds:           {}\n", f);
        // The patch's hooks (kpatch-patch.h), in the order the core calls them.
        if (r->manifest.is_object() && r->manifest.value("hooks", nlohmann::json()).is_object())
            for (const char *kind : {"pre_patch", "post_patch", "pre_unpatch", "post_unpatch"})
                if (const auto &h = r->manifest["hooks"]; h.contains(kind) && h[kind].is_string())
                    out << fmt::format("Hook:           {} {}\n", kind, h[kind].get<std::string>());
        // Functions whose refusal a person waived with KPATCH_REVIEWED, and why.
        for (const auto &f : r->reviewed) {
            out << fmt::format("Reviewed:       {}: {} ({} refusal{} waived)\n", f.function, f.reason,
                               f.waived.size(), f.waived.size() == 1 ? "" : "s");
            if (o.verbose)
                for (const auto &w : f.waived)
                    out << fmt::format("  waived:       {}\n", w);
        }
        if (o.verbose)
            for (const auto &[k, v] : r->modinfo)
                out << fmt::format("modinfo {}={}\n", k, v);
    });
}

int verb_verify(const Verb &, const Options &o, Context &ctx, Io &io)
{
    auto r = verify(ctx, o.args[0]);
    if (!r)
        return report(r.error(), o, io);
    emit(o, io, *r, [&](std::ostream &out) {
        for (const auto &c : r->checks)
            out << fmt::format("{:<5} {:<28} {}\n", to_string(c.result), c.name, c.detail);
        out << fmt::format("'{}' {} load on {}\n", r->module.name, r->ok() ? "would" : "would not", r->kernel_release);
    });
    if (!r->ok() && o.quiet && o.json == JsonMode::off)
        for (const auto &c : r->checks)
            if (c.result == CheckResult::Fail)
                io.err << fmt::format("Failed to verify '{}': {}: {}\n", r->module.name, c.name, c.detail);
    return r->ok() ? 0 : kRefused;
}

int verb_status(const Verb &, const Options &o, Context &ctx, Io &io)
{
    auto r = status(ctx);
    if (!r)
        return report(r.error(), o, io);
    return emit(o, io, *r, [&](std::ostream &out) {
        out << fmt::format("Kernel:        {}\nBuild id:      {}\nCore module:   {}\n", r->kernel_release,
                           r->build_id.empty() ? "(unknown)" : r->build_id, r->core_loaded ? "loaded" : "not loaded");
        size_t loaded = 0;
        for (const auto &e : r->list.patches)
            if (e.loaded) {
                out << fmt::format("{:<15}{} (order {}, {} function{}{}{}{})\n", loaded++ ? "" : "Loaded:", e.name, e.order,
                                   e.functions.size(), e.functions.size() == 1 ? "" : "s",
                                   e.objects.empty() ? "" : "; " + objects_line(e.objects),
                                   e.replaced_patches.empty() ? "" : fmt::format("; replaced {}", fmt::join(e.replaced_patches, ", ")),
                                   e.replaced_by.empty() ? "" : "; replaced by " + e.replaced_by);
            }
        if (!loaded)
            out << "Loaded:        none\n";
        for (const auto &n : r->notes)
            out << "* " << n << "\n";
    });
}

} // namespace kpatch::ctl
