// The states the loader reports, as enums with their one table of names (licence: GPL-2.0-only).
// The names are an interface: kpatchctl's text and --json output and kpatchd's boot record
// (doc/interfaces.md) carry them, and a record written earlier is read back through from_name.
#pragma once

#include <kpatch/enum_names.hpp>

#include <optional>
#include <string_view>

namespace kpatch::loader {

// One check of `kpatchctl verify`.
enum class CheckResult { Pass, Fail, Skip };
inline constexpr EnumName<CheckResult> kCheckResultNames[] = {
    {CheckResult::Pass, "pass"}, {CheckResult::Fail, "fail"}, {CheckResult::Skip, "skip"}};

// What the boot pass did with one installed patch.
enum class BootResult { Loaded, AlreadyLoaded, Failed, Replaced };
inline constexpr EnumName<BootResult> kBootResultNames[] = {
    {BootResult::Loaded, "loaded"}, {BootResult::AlreadyLoaded, "already-loaded"},
    {BootResult::Failed, "failed"}, {BootResult::Replaced, "replaced"}};

// A patch in `kpatchctl list`: loaded (enabled or disabled), or installed and not loaded.
enum class ListState { Enabled, Disabled, Installed, Failed };
inline constexpr EnumName<ListState> kListStateNames[] = {
    {ListState::Enabled, "enabled"}, {ListState::Disabled, "disabled"},
    {ListState::Installed, "installed"}, {ListState::Failed, "failed"}};

constexpr std::string_view to_string(CheckResult r) { return to_name(kCheckResultNames, r); }
constexpr std::string_view to_string(BootResult r) { return to_name(kBootResultNames, r); }
constexpr std::string_view to_string(ListState s) { return to_name(kListStateNames, s); }

} // namespace kpatch::loader
