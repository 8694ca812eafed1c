// Skipping a Catch2 test case so that it is counted as skipped (licence: GPL-2.0-only).
//
// Catch2 v2 (2.13, what Debian bookworm ships) has no SKIP(): a case that warns and returns
// passes, and a missing kernel tree looked like a green run. SKIP_TEST records the case and
// returns; catch2_main.cpp then ends a run without failures that skipped anything with exit
// code 77, which meson counts as SKIP. The cases that need the kernel tree or the target's
// files carry a tag ([kernel], [real]) so meson runs them as a test of their own and the
// count stays exact; the C fixtures (REQUIRE_FIXTURES) need only the kernel headers that
// `make deps` installs, and without them the whole program counts as skipped.
// With Catch2 v3.3+ this becomes SKIP(reason).
#pragma once

#include <string>

#include <catch2/catch.hpp>

namespace test_skip {
// Notes that the running test case skips, and why (printed at the end of the run).
void record(const std::string &reason);
} // namespace test_skip

#define SKIP_TEST(reason)                                                                  \
    do {                                                                                   \
        const std::string skip_reason_ = (reason);                                         \
        test_skip::record(skip_reason_);                                                   \
        WARN("SKIPPED: " << skip_reason_);                                                 \
        return;                                                                            \
    } while (0)
