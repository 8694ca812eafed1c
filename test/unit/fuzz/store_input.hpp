// Mutated install stores (/var/lib/kpatch) and kpatchd records for the loader fuzzer (licence: GPL-2.0-only).
#pragma once

#include "module_input.hpp"
#include "rng.hpp"

#include <kpatch/loader/config.hpp>

#include <filesystem>
#include <string>
#include <vector>

namespace kpatch::fuzz {

struct StoreInput {
    std::vector<std::string> names;  // the patches the order file listed before the damage
    bool run_dir_damaged = false;    // the run directory or kpatchd's record was changed
    std::string what;
};

// Builds a valid store for CONFIG's kernel (one to three patches, sometimes another kernel's
// and a boot record), then damages it in one to three ways: the order file's text, any file
// or directory of it made odd (files.hpp), a module replaced by a mutated one, stray
// entries, kpatchd's record mutated. OUTSIDE holds the targets of symlinks out of the store.
StoreInput make_store(const loader::Config &config, const Fixtures &fixtures, const std::filesystem::path &outside, Rng &rng);

} // namespace kpatch::fuzz
