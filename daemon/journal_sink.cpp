// spdlog's systemd sink plus the KPATCH_PATCH structured field (licence: GPL-2.0-only).
#include "journal_sink.hpp"

#include <systemd/sd-journal.h>

namespace kpatch::daemon {

void PatchJournalSink::sink_it_(const spdlog::details::log_msg &msg)
{
    std::string_view logger(msg.logger_name.data(), msg.logger_name.size());
    if (logger == main_logger_) {
        systemd_sink::sink_it_(msg);
        return;
    }
    const int len = static_cast<int>(msg.payload.size());
    (sd_journal_send)("MESSAGE=%.*s", len, msg.payload.data(), "PRIORITY=%d", syslog_level(msg.level),
                      "SYSLOG_IDENTIFIER=%s", ident_.c_str(), "KPATCH_PATCH=%.*s", static_cast<int>(logger.size()),
                      logger.data(), nullptr);
}

} // namespace kpatch::daemon
