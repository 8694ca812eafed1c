// Mutated install stores (/var/lib/kpatch) and kpatchd records for the loader fuzzer (licence: GPL-2.0-only).
#include "store_input.hpp"

#include "files.hpp"
#include "json_mutate.hpp"

#include <kpatch/json_dump.hpp>
#include <kpatch/loader/json.hpp>
#include <kpatch/loader/ops.hpp>

#include <fmt/format.h>

#include <algorithm>

namespace kpatch::fuzz {

namespace {

const std::string *fixture_bytes(const Fixtures &fixtures, const std::string &file)
{
    for (const auto &[name, bytes] : fixtures)
        if (name == file)
            return &bytes;
    return nullptr;
}

// A module for the store: a fixture by its file name, or a synthetic one named NAME.
std::string store_module(const Fixtures &fixtures, const std::string &file, const std::string &name,
                         const std::string &release)
{
    const std::string *bytes = fixture_bytes(fixtures, file);
    return bytes ? *bytes : synthetic_module(name, release);
}

std::string mutated_order(const std::vector<std::string> &names, Rng &rng, std::string &what)
{
    std::string text;
    switch (rng.below(6)) {
    case 0:
        for (const auto &n : names)
            text += n + "\r\n";
        what += " order: CRLF";
        break;
    case 1:
        for (const auto &n : names)
            text += "  " + n + " \t\n" + n + "\n../" + n + "\n" + n + ".ko\n\n";
        what += " order: blanks, duplicates, paths";
        break;
    case 2:
        text = std::string(1 << 20, 'o');
        what += " order: one 1 MiB line";
        break;
    case 3:
        for (int i = 0; i < 5000; ++i)
            text += fmt::format("kpatch_{}\n", i);
        what += " order: 5000 names without files";
        break;
    case 4:
        for (const auto &n : names)
            text += n + std::string(1, '\0') + "\xff\n";
        what += " order: NUL and 0xff";
        break;
    default:
        for (const auto &n : names)
            text += std::string(rng.percent(50) ? "order" : "kpatch") + "\n" + n;  // no final newline
        what += " order: reserved names, no final newline";
    }
    return text;
}

loader::BootRecord valid_record(const loader::Config &c, const std::vector<std::string> &names)
{
    loader::BootRecord r{"2026-01-01T00:00:00Z", c.kernel_release, true, "", {}, ""};
    for (const auto &n : names)
        r.items.push_back({n, loader::BootResult::Failed, fmt::format("Failed to load '{}': it was built for another kernel", n)});
    r.status = fmt::format("0 of {} patches loaded", names.size());
    return r;
}

void damage(const loader::Config &c, StoreInput &in, const Fixtures &fixtures, const std::filesystem::path &outside, Rng &rng)
{
    fs::path dir = c.install_root / c.kernel_release;
    std::string ko = in.names.empty() ? "kpatch_none" : rng.pick(in.names);
    switch (rng.below(10)) {
    case 0:
        write_file(dir / "order", mutated_order(in.names, rng, in.what));
        break;
    case 1:
        make_odd(dir / "order", outside, rng, in.what);
        break;
    case 2: case 3:
        make_odd(dir / (ko + ".ko"), outside, rng, in.what);
        break;
    case 4: {
        std::string what;
        write_file(dir / (ko + ".ko"), mutated_module(fixtures, c.kernel_release, rng, what));
        in.what += fmt::format(" {}.ko: {}", ko, what);
        break;
    }
    case 5:
        make_odd(rng.percent(70) ? dir : c.install_root, outside, rng, in.what);
        break;
    case 6:
        write_file(c.install_root / "stray-file", "x");
        fs::create_directories(c.install_root / ".hidden");
        write_file(dir / ("." + ko + ".ko.tmp-1"), "partial");
        fs::create_directories(dir / "kpatch_dir.ko");
        in.what += " stray entries";
        break;
    case 7: {
        std::string text = kpatch::json_dump(nlohmann::json(valid_record(c, in.names)));
        in.what += " kpatchd.json:";
        write_file(c.boot_record_path(), mutate_json(text, rng, in.what));
        in.run_dir_damaged = true;
        break;
    }
    case 8:
        make_odd(rng.percent(50) ? c.boot_record_path() : c.lock_path(), outside, rng, in.what);
        in.run_dir_damaged = true;
        break;
    default:
        make_odd(c.run_dir, outside, rng, in.what);
        in.run_dir_damaged = true;
    }
}

} // namespace

StoreInput make_store(const loader::Config &c, const Fixtures &fixtures, const std::filesystem::path &outside, Rng &rng)
{
    static const std::vector<std::string> files = {"kpatch-good.ko", "kpatch-second.ko", "kpatch-disjoint.ko",
                                                   "kpatch-modinfo.ko", "kpatch-plain.ko", "kpatch-same.ko", "synthetic"};
    StoreInput in;
    fs::path dir = c.install_root / c.kernel_release;
    for (int n = 1 + rng.below(3); n > 0; --n) {
        const std::string &file = rng.pick(files);
        std::string name = file == "synthetic" ? "kpatch_synth" : loader::module_name(file.substr(0, file.size() - 3));
        if (std::find(in.names.begin(), in.names.end(), name) != in.names.end())
            continue;
        write_file(dir / (name + ".ko"), store_module(fixtures, file, name, c.kernel_release));
        in.names.push_back(name);
    }
    std::string order;
    for (const auto &n : in.names)
        order += n + "\n";
    write_file(dir / "order", order);
    if (rng.percent(30)) {
        write_file(c.install_root / "6.1.0-54-amd64" / "kpatch_old.ko", store_module(fixtures, "kpatch-old.ko", "kpatch_old", "6.1.0-54-amd64"));
        write_file(c.install_root / "6.1.0-54-amd64" / "order", "kpatch_old\n");
    }
    if (rng.percent(50))
        write_file(c.boot_record_path(), kpatch::json_dump(nlohmann::json(valid_record(c, in.names)), 2));
    in.what = "store of " + fmt::format("{}", fmt::join(in.names, ","));
    for (int n = 1 + rng.below(3); n > 0; --n)
        damage(c, in, fixtures, outside, rng);
    return in;
}

} // namespace kpatch::fuzz
