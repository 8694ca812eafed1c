// Tests of a multi-kernel run's table: how each kernel's result is classified, the
// text and JSON renderings, and the run's exit code (licence: GPL-2.0-only).
#include <catch2/catch.hpp>

#include <kpatch/driver/kernel_table.hpp>

using namespace kpatch::driver;
using kpatch::Error;
using kpatch::Expected;

namespace {

Expected<BuildResult> built(const std::string &path)
{
    BuildResult r;
    r.module_path = path;
    return r;
}

} // namespace

TEST_CASE("each kernel's outcome is classified by its error", "[kernel-table]")
{
    auto ok = kernel_outcome("6.1.0-57-amd64", built("/o/6.1.0-57-amd64/kpatch-x.ko"), 3.5);
    CHECK(ok.result == KernelResult::Built);
    CHECK(ok.exit_code == 0);
    CHECK(ok.detail == "/o/6.1.0-57-amd64/kpatch-x.ko");

    auto refused = kernel_outcome("k", Error{"fs/pipe.c: data object `x` changed", kExitUnsupported}, 1);
    CHECK(refused.result == KernelResult::Refused);
    CHECK(refused.exit_code == 2);
    CHECK(refused.detail == "fs/pipe.c: data object `x` changed");

    CHECK(kernel_outcome("k", Error{"no code", kExitNoChange}, 1).result == KernelResult::NoChange);

    auto no_apply = kernel_outcome(
        "k", Error{"patch /p/fix.patch does not apply to linux-source-6.1=6.1.192-2:\nHunk #1 FAILED", kExitError}, 1);
    CHECK(no_apply.result == KernelResult::DoesNotApply);
    CHECK(no_apply.exit_code == 1);

    auto failed = kernel_outcome("k", Error{"cannot find create-diff-object"}, 1);
    CHECK(failed.result == KernelResult::Failed);
    CHECK(failed.exit_code == 1); // an error without a category is a plain failure
}

TEST_CASE("the run exits 0 only when every kernel built, else with the first failure's code",
          "[kernel-table]")
{
    KernelOutcome a{"a", KernelResult::Built, 0, "/a.ko", 1};
    KernelOutcome refused{"b", KernelResult::Refused, 2, "why", 1};
    KernelOutcome nochange{"c", KernelResult::NoChange, 3, "none", 1};
    KernelOutcome failed{"d", KernelResult::Failed, 1, "broke", 1};
    CHECK(combined_exit_code({a}) == 0);
    CHECK(combined_exit_code({a, a}) == 0);
    CHECK(combined_exit_code({a, refused, failed}) == 2);
    CHECK(combined_exit_code({a, nochange, refused}) == 3);
    CHECK(combined_exit_code({failed, refused}) == 1);
    CHECK(combined_exit_code({}) == 1);
}

TEST_CASE("the table has one line per kernel with its result, time and module or reason",
          "[kernel-table]")
{
    std::vector<KernelOutcome> rows = {
        {"6.1.0-56-amd64", KernelResult::Built, 0, "/o/6.1.0-56-amd64/kpatch-x.ko", 12.34},
        {"6.1.0-57-amd64", KernelResult::DoesNotApply, 1,
         "patch x.patch does not apply to linux-source-6.1=6.1.192-3:\nHunk #1 FAILED", 2},
    };
    std::string text = render_table(rows);
    std::istringstream in(text);
    std::vector<std::string> lines;
    for (std::string l; std::getline(in, l);)
        lines.push_back(l);
    REQUIRE(lines.size() == 3);
    CHECK(lines[0].starts_with("KERNEL "));
    CHECK(lines[1].starts_with("6.1.0-56-amd64  built "));
    CHECK(lines[1].find("12.3s") != std::string::npos);
    CHECK(lines[1].ends_with("/o/6.1.0-56-amd64/kpatch-x.ko"));
    CHECK(lines[2].find("does not apply") != std::string::npos);
    // Only the reason's first line: the table stays one line per kernel.
    CHECK(lines[2].ends_with("linux-source-6.1=6.1.192-3:"));
    // Columns line up whatever the result's length.
    CHECK(lines[1].find("12.3s") + 1 == lines[2].find("2.0s"));

    auto j = table_json(rows);
    CHECK(j["exit_code"] == 1);
    REQUIRE(j["kernels"].size() == 2);
    CHECK(j["kernels"][0]["kernel"] == "6.1.0-56-amd64");
    CHECK(j["kernels"][0]["result"] == "built");
    CHECK(j["kernels"][0]["module"] == "/o/6.1.0-56-amd64/kpatch-x.ko");
    CHECK(j["kernels"][1]["result"] == "does not apply");
    CHECK(j["kernels"][1]["exit_code"] == 1);
    CHECK(j["kernels"][1]["reason"].get<std::string>().find("Hunk #1 FAILED") != std::string::npos);
}
