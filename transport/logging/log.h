// Structured, levelled logs for the production binary, over spdlog (Debian's libspdlog-dev).
//
// Every line is logfmt — `ts=2026-01-01T12:00:00.123456Z level=info node=3 event=listening
// resp=127.0.0.1:6379` — so people can read it and tools can parse it. Values with spaces,
// quotes or '=' are quoted. Node logic keeps using Env's Tracer; this is for transport/ and
// the binaries.
//
// Example:
//   crema::log::Init({.node_id = 3, .level = "info"});
//   crema::log::Info("listening", {{"resp", address}});
//   crema::log::Warn("client closed", {{"reason", "idle timeout"}, {"client", id}});
//
// Thread safety: spdlog's loggers are thread-safe; Init must run once, before other calls.
#ifndef CREMA_TRANSPORT_LOGGING_LOG_H_
#define CREMA_TRANSPORT_LOGGING_LOG_H_

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace crema::log {

enum class Level { kDebug, kInfo, kWarn, kError };

struct Options {
  uint64_t node_id = 0;
  std::string level = "info";  // debug | info | warn | error
  std::string file;            // empty: stderr
};

// INVALID_ARGUMENT for an unknown level; UNAVAILABLE if the file cannot be opened.
[[nodiscard]] absl::Status Init(const Options& options);
bool ParseLevel(std::string_view text, Level* level);

struct Field {
  Field(std::string_view k, std::string_view v) : key(k), value(v) {}
  Field(std::string_view k, const std::string& v) : key(k), value(v) {}
  Field(std::string_view k, const char* v) : key(k), value(v) {}
  template <typename T, typename = std::enable_if_t<std::is_arithmetic_v<T>>>
  Field(std::string_view k, T v) : key(k), value(absl::StrCat(v)) {}
  std::string_view key;
  std::string value;
};
using Fields = std::initializer_list<Field>;

void Write(Level level, std::string_view event, Fields fields);
inline void Debug(std::string_view e, Fields f = {}) { Write(Level::kDebug, e, f); }
inline void Info(std::string_view e, Fields f = {}) { Write(Level::kInfo, e, f); }
inline void Warn(std::string_view e, Fields f = {}) { Write(Level::kWarn, e, f); }
inline void Error(std::string_view e, Fields f = {}) { Write(Level::kError, e, f); }

// Flushes buffered lines (before exit, in tests).
void Flush();

// The logfmt body after the level and node: `event=x k=v ...` (exposed for tests).
std::string FormatFields(std::string_view event, Fields fields);

}  // namespace crema::log

#endif  // CREMA_TRANSPORT_LOGGING_LOG_H_
