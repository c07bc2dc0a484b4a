#include "transport/logging/log_tracer.h"

#include <array>

namespace crema::log {

Level TraceLevel(std::string_view kind) {
  // Failures an operator should see at the default level (node/cache_node, consensus/driver).
  static constexpr std::array<std::string_view, 15> kWarn = {
      "raft.stopped",           "raft.corrupt",           "raft.reopen_failed",
      "raft.log_failed",        "raft.log_open_failed",   "raft.log_maintain_failed", "raft.log_corrupt", "raft.log_reopen_failed",
      "raft.snapshot_rejected", "cache.replica_corrupt",  "cache.create_replica_failed",
      "cache.persist_map_failed", "cache.identity_write_failed", "cache.corrupt_reported",
      "net.handshake_failed"};
  for (std::string_view w : kWarn) {
    if (kind == w) return Level::kWarn;
  }
  return Level::kDebug;
}

void LogTracer::Record(std::string_view kind, std::string_view detail) {
  Write(TraceLevel(kind), kind, {{"detail", detail}});
}

}  // namespace crema::log
