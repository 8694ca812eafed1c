// spdlog's systemd sink plus one structured field: KPATCH_PATCH=<logger name> (licence: GPL-2.0-only).
// kpatchd logs about a patch through a logger named after it, so `journalctl KPATCH_PATCH=x`
// finds every line about patch x.
#pragma once

#include <spdlog/sinks/systemd_sink.h>

#include <string>

namespace kpatch::daemon {

class PatchJournalSink final : public spdlog::sinks::systemd_sink<std::mutex> {
public:
    // Loggers named MAIN_LOGGER carry no patch field.
    PatchJournalSink(std::string ident, std::string main_logger)
        : systemd_sink(std::move(ident), false), main_logger_(std::move(main_logger))
    {
    }

protected:
    void sink_it_(const spdlog::details::log_msg &msg) override;

private:
    std::string main_logger_;
};

} // namespace kpatch::daemon
