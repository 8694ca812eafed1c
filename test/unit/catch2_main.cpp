// Catch2 v2 entry point shared by every unit test executable (licence: GPL-2.0-only).
// A run without failures in which a case skipped (skip.hpp) exits 77: meson's SKIP.
#define CATCH_CONFIG_RUNNER
#include "skip.hpp"

#include <cstdio>
#include <vector>

namespace {
std::vector<std::string> &skipped()
{
    static std::vector<std::string> names;
    return names;
}
} // namespace

void test_skip::record(const std::string &reason)
{
    skipped().push_back(Catch::getResultCapture().getCurrentTestName() + ": " + reason);
}

int main(int argc, char *argv[])
{
    int failed = Catch::Session().run(argc, argv);
    if (failed != 0 || skipped().empty())
        return failed;
    std::printf("%zu test case(s) skipped:\n", skipped().size());
    for (const auto &s : skipped())
        std::printf("  SKIPPED %s\n", s.c_str());
    return 77;
}
