#include "transport/logging/log.h"

#include <chrono>

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <memory>

namespace crema::log {
namespace {

std::shared_ptr<spdlog::logger>& Logger() {
  static std::shared_ptr<spdlog::logger> logger;
  return logger;
}

bool NeedsQuotes(std::string_view v) {
  if (v.empty()) return true;
  for (char c : v) {
    if (c == ' ' || c == '"' || c == '=' || c == '\n' || c == '\r' || c == '\t') return true;
  }
  return false;
}

void AppendValue(std::string* out, std::string_view v) {
  if (!NeedsQuotes(v)) {
    out->append(v.data(), v.size());
    return;
  }
  out->push_back('"');
  for (char c : v) {
    switch (c) {
      case '"': out->append("\\\""); break;
      case '\\': out->append("\\\\"); break;
      case '\n': out->append("\\n"); break;
      case '\r': out->append("\\r"); break;
      default: out->push_back(c);
    }
  }
  out->push_back('"');
}

spdlog::level::level_enum ToSpd(Level l) {
  switch (l) {
    case Level::kDebug: return spdlog::level::debug;
    case Level::kInfo: return spdlog::level::info;
    case Level::kWarn: return spdlog::level::warn;
    case Level::kError: return spdlog::level::err;
  }
  return spdlog::level::info;
}

}  // namespace

bool ParseLevel(std::string_view text, Level* level) {
  if (text == "debug") *level = Level::kDebug;
  else if (text == "info") *level = Level::kInfo;
  else if (text == "warn" || text == "warning") *level = Level::kWarn;
  else if (text == "error") *level = Level::kError;
  else return false;
  return true;
}

absl::Status Init(const Options& options) {
  Level level;
  if (!ParseLevel(options.level, &level)) {
    return absl::InvalidArgumentError("log level must be debug, info, warn or error");
  }
  std::shared_ptr<spdlog::logger> logger;
  try {
    if (options.file.empty()) {
      logger = spdlog::stderr_logger_mt("crema");
    } else {
      logger = spdlog::basic_logger_mt("crema", options.file);
    }
  } catch (const spdlog::spdlog_ex& e) {
    return absl::UnavailableError(absl::StrCat("cannot open log: ", e.what()));
  }
  // spdlog levels: "trace, debug, info, warning, error, critical" -> short logfmt words.
  logger->set_pattern(absl::StrCat("ts=%Y-%m-%dT%H:%M:%S.%fZ level=%l node=", options.node_id,
                                   " %v"),
                      spdlog::pattern_time_type::utc);
  logger->set_level(ToSpd(level));
  logger->flush_on(spdlog::level::info);  // info lines are rare (no per-request logs)
  // Debug lines (node events) reach the file within a second, even if the process is then killed.
  spdlog::flush_every(std::chrono::seconds(1));
  Logger() = logger;
  return absl::OkStatus();
}

std::string FormatFields(std::string_view event, Fields fields) {
  std::string out = "event=";
  AppendValue(&out, event);
  for (const Field& f : fields) {
    out.push_back(' ');
    out.append(f.key.data(), f.key.size());
    out.push_back('=');
    AppendValue(&out, f.value);
  }
  return out;
}

void Flush() {
  if (Logger()) Logger()->flush();
}

void Write(Level level, std::string_view event, Fields fields) {
  std::shared_ptr<spdlog::logger>& logger = Logger();
  if (!logger) {
    // Before Init (or in tests): plain stderr through spdlog's default logger.
    spdlog::log(ToSpd(level), "{}", FormatFields(event, fields));
    return;
  }
  if (!logger->should_log(ToSpd(level))) return;
  logger->log(ToSpd(level), "{}", FormatFields(event, fields));
}

}  // namespace crema::log
