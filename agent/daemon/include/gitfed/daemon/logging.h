#pragma once
// The agent's logs: one JSON object per line on standard error
//   {"time":"2026-11-22T10:00:00.123Z","level":"info","msg":"reconciled","cluster":"eu-west-1","revision":"1a2b..."}
// (or `--log-format text` for people). Every spdlog line of every library is
// formatted this way; logEvent() adds structured fields. Nothing logged here
// ever holds a credential: the daemon handles credential file names only, and
// the libraries redact Secret values from their messages. Setup happens once
// in main, before threads start; logEvent is thread-safe (spdlog's logger is).

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

#include <spdlog/spdlog.h>

namespace gitfed::daemon {

// Installs the default logger: "json" or "text", at `level` (spdlog's names).
// `context` fields (e.g. the cluster) are added to every line.
void setUpLogging(const std::string& format, const std::string& level, const nlohmann::json& context = {});

// A message with fields, e.g. logEvent(info, "reconciled", {{"revision", r}}).
void logEvent(spdlog::level::level_enum level, std::string_view message, const nlohmann::json& fields = {});

// The JSON line for one message (for tests): `payload` is what spdlog carries.
std::string formatJsonLine(std::string_view time, std::string_view level, std::string_view payload,
                           const nlohmann::json& context);

}  // namespace gitfed::daemon
