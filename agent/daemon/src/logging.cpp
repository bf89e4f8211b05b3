#include "gitfed/daemon/logging.h"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <memory>

#include <spdlog/formatter.h>
#include <spdlog/sinks/stdout_sinks.h>

namespace gitfed::daemon {
namespace {

using nlohmann::json;

// Separates a message from its fields inside spdlog's payload.
constexpr char kFieldsMark = '\x1f';

std::string quote(std::string_view s) {
  return json(std::string(s)).dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string timeText(std::chrono::system_clock::time_point t) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03lldZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<long long>(ms % 1000));
  return buf;
}

std::string levelName(spdlog::level::level_enum l) {
  switch (l) {
    case spdlog::level::trace: return "trace";
    case spdlog::level::debug: return "debug";
    case spdlog::level::info: return "info";
    case spdlog::level::warn: return "warn";
    case spdlog::level::err: return "error";
    case spdlog::level::critical: return "critical";
    default: return "info";
  }
}

// Splits "message\x1f{fields}" (fields only when they parse as an object).
std::pair<std::string_view, json> split(std::string_view payload) {
  auto mark = payload.find(kFieldsMark);
  if (mark == std::string_view::npos) return {payload, json()};
  json fields = json::parse(payload.substr(mark + 1), nullptr, false);
  if (!fields.is_object()) return {payload, json()};
  return {payload.substr(0, mark), std::move(fields)};
}

class JsonFormatter final : public spdlog::formatter {
 public:
  explicit JsonFormatter(json context) : context_(std::move(context)) {}
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    std::string line = formatJsonLine(timeText(msg.time), levelName(msg.level),
                                      std::string_view(msg.payload.data(), msg.payload.size()), context_);
    dest.append(line.data(), line.data() + line.size());
  }
  std::unique_ptr<spdlog::formatter> clone() const override { return std::make_unique<JsonFormatter>(context_); }

 private:
  json context_;
};

class TextFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    auto [text, fields] = split(std::string_view(msg.payload.data(), msg.payload.size()));
    std::string line = timeText(msg.time) + " " + levelName(msg.level) + " " + std::string(text);
    if (fields.is_object())
      for (const auto& [k, v] : fields.items()) line += " " + k + "=" + (v.is_string() ? v.get<std::string>() : v.dump());
    line += "\n";
    dest.append(line.data(), line.data() + line.size());
  }
  std::unique_ptr<spdlog::formatter> clone() const override { return std::make_unique<TextFormatter>(); }
};

}  // namespace

std::string formatJsonLine(std::string_view time, std::string_view level, std::string_view payload,
                           const json& context) {
  auto [text, fields] = split(payload);
  std::string line = "{\"time\":" + quote(time) + ",\"level\":" + quote(level) + ",\"msg\":" + quote(text);
  auto add = [&](const json& object) {
    if (!object.is_object()) return;
    for (const auto& [k, v] : object.items()) {
      if (k == "time" || k == "level" || k == "msg") continue;
      line += "," + quote(k) + ":" + v.dump(-1, ' ', false, json::error_handler_t::replace);
    }
  };
  add(context);
  add(fields);
  return line + "}\n";
}

void setUpLogging(const std::string& format, const std::string& level, const json& context) {
  auto sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  auto logger = std::make_shared<spdlog::logger>("gitfed", sink);
  if (format == "text")
    logger->set_formatter(std::make_unique<TextFormatter>());
  else
    logger->set_formatter(std::make_unique<JsonFormatter>(context));
  logger->set_level(spdlog::level::from_str(level));
  logger->flush_on(spdlog::level::trace);  // one line at a time: nothing lost on a crash
  spdlog::set_default_logger(logger);
}

void logEvent(spdlog::level::level_enum level, std::string_view message, const json& fields) {
  if (!spdlog::default_logger_raw()->should_log(level)) return;
  if (fields.is_object() && !fields.empty())
    spdlog::log(level, "{}{}{}", message, kFieldsMark, fields.dump(-1, ' ', false, json::error_handler_t::replace));
  else
    spdlog::log(level, "{}", message);
}

}  // namespace gitfed::daemon
