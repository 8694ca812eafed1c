// JSON shapes of the loader's results; keys are stable, kpatchctl(8) lists them (licence: GPL-2.0-only).
#pragma once

#include <kpatch/loader/ops.hpp>

#include <nlohmann/json.hpp>

namespace kpatch::loader {

void to_json(nlohmann::json &j, const FunctionState &f);
void to_json(nlohmann::json &j, const ObjectState &o);
void to_json(nlohmann::json &j, const LoadResult &r);
void to_json(nlohmann::json &j, const UnloadResult &r);
void to_json(nlohmann::json &j, const ListEntry &e);
void to_json(nlohmann::json &j, const ListResult &r);
void to_json(nlohmann::json &j, const InstalledPatch &p);
void to_json(nlohmann::json &j, const InstallResult &r);
void to_json(nlohmann::json &j, const ModuleInfo &m);
void to_json(nlohmann::json &j, const Check &c);
void to_json(nlohmann::json &j, const VerifyResult &r);
void to_json(nlohmann::json &j, const BootItem &b);
void to_json(nlohmann::json &j, const BootRecord &b);
// kpatchd's record as written by to_json; an error (never an exception) for anything else.
Expected<BootRecord> parse_boot_record(std::string_view text);
void to_json(nlohmann::json &j, const StatusResult &s);

} // namespace kpatch::loader
