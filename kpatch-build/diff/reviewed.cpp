// The KPATCH_REVIEWED escape hatch: reviewed functions, and the refusals their review waives (licence: GPL-2.0-only).
//
// kpatch-patch.h's KPATCH_REVIEWED(func, reason) puts "func\0reason\0" into section
// .kpatch.reviewed of the patched object (doc/interfaces.md, "Patch-source macros"). A
// refusal names the functions or variables it concerns (Refusal::subjects); when the patch
// says every one of them was reviewed, the refusal becomes a warning and is recorded under
// the entry, so the module can show what a person vouched for. Refusals without subjects
// (a function sharing its section, an unknown special section) are defects of the build
// that no review can make safe, and stand. The section only carries this record: nothing
// refers to it, so it is never copied to the output.
#include <algorithm>
#include <cctype>
#include <elf.h>

#include "diff/passes.hpp"

namespace kpatch::diff {
namespace {

bool is_identifier(std::string_view s)
{
    if (s.empty() || std::isdigit(static_cast<unsigned char>(s[0])))
        return false;
    return std::all_of(s.begin(), s.end(),
                       [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; });
}

} // namespace

std::string source_name(std::string_view symbol)
{
    return std::string(symbol.substr(0, symbol.find('.', 1)));
}

Expected<std::vector<Reviewed>> read_reviewed(const Object &patched)
{
    std::vector<Reviewed> out;
    for (auto &sp : patched.sections) {
        const Section &s = *sp;
        if (s.name != reviewed_section)
            continue;
        auto bad = [&](const std::string &why) {
            return Error{"section " + s.name + " is malformed (" + why +
                         "); it must hold only KPATCH_REVIEWED(function, \"reason\") entries of "
                         "kpatch-patch.h, \"function\\0reason\\0\" each"}
                .in(patched.path);
        };
        if (s.type == SHT_NOBITS)
            return bad("it has no contents");
        std::string_view data(reinterpret_cast<const char *>(s.data.data()), s.data.size());
        // Compilers may pad between entries: NUL bytes where an entry would start are skipped.
        size_t at = 0;
        while (at < data.size()) {
            if (data[at] == '\0') {
                at++;
                continue;
            }
            size_t end_name = data.find('\0', at);
            if (end_name == std::string_view::npos)
                return bad("an entry at offset " + std::to_string(at) + " is not NUL-terminated");
            std::string_view name = data.substr(at, end_name - at);
            if (!is_identifier(name))
                return bad("`" + std::string(name.substr(0, 64)) + "` at offset " + std::to_string(at) +
                           " is not a function name");
            size_t end_reason = data.find('\0', end_name + 1);
            if (end_reason == std::string_view::npos)
                return bad("the entry of `" + std::string(name) + "` has no NUL-terminated reason");
            std::string_view reason = data.substr(end_name + 1, end_reason - end_name - 1);
            if (reason.empty())
                return bad("the entry of `" + std::string(name) + "` gives no reason");
            out.push_back(Reviewed{std::string(name), std::string(reason), {}});
            at = end_reason + 1;
        }
    }
    return out;
}

Waivers apply_reviews(const std::vector<Refusal> &refusals, std::vector<Reviewed> entries)
{
    Waivers w;
    w.reviewed = std::move(entries);
    auto entry = [&](const std::string &name) -> Reviewed * {
        for (auto &r : w.reviewed)
            if (r.function == name)
                return &r;
        return nullptr;
    };
    for (auto &r : refusals) {
        bool waived = !r.subjects.empty() &&
                      std::all_of(r.subjects.begin(), r.subjects.end(),
                                  [&](const std::string &s) { return entry(s) != nullptr; });
        if (!waived) {
            w.standing.push_back(r.text);
            continue;
        }
        for (auto &s : r.subjects)
            entry(s)->waived.push_back(r.text);
        std::string who;
        for (auto &s : r.subjects)
            who += (who.empty() ? "" : ", ") + s + " (\"" + entry(s)->reason + "\")";
        std::string note = r.dropped ? "; the function is left out of the patch" : "";
        w.warnings.push_back("waived by KPATCH_REVIEWED for " + who + note + ": " + r.text);
        if (r.dropped)
            w.dropped.push_back(r.dropped);
    }
    for (auto &e : w.reviewed)
        if (e.waived.empty())
            w.warnings.push_back("KPATCH_REVIEWED(" + e.function + ") waived nothing: no refusal "
                                 "concerns `" + e.function + "` (a stale or misspelt entry?)");
    return w;
}

Comparison without_dropped(const Comparison &cmp, const std::vector<const Symbol *> &dropped)
{
    Comparison out = cmp;
    for (const Symbol *f : dropped) {
        auto &v = out.changed_functions;
        v.erase(std::remove(v.begin(), v.end(), f), v.end());
        out.status[f] = Status::Same;
        for (auto *name : out.aliases.names(f))
            out.status[name] = Status::Same;
    }
    return out;
}

} // namespace kpatch::diff
