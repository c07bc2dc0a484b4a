#include "node/cache_node/cache_api.h"

namespace crema {

const char* ReadConsistencyName(ReadConsistency c) {
  switch (c) {
    case ReadConsistency::kLocal: return "local";
    case ReadConsistency::kLinearizable: return "linearizable";
  }
  return "unknown";
}

absl::StatusOr<bool> CacheApi::ExpireIf(std::string_view key, const Expiration& expiration,
                                        ExpireCondition condition, const WriteOptions& options) {
  if (!condition.Valid()) return absl::InvalidArgumentError("incompatible expire conditions");
  if (!condition.empty()) {
    return absl::UnimplementedError("conditional expire is not supported here");
  }
  return Expire(key, expiration, options);
}

std::optional<absl::StatusOr<std::optional<std::string>>> CacheApi::TryGetNow(
    std::string_view, const ReadOptions&) {
  return std::nullopt;
}

std::vector<absl::Status> CacheApi::MultiPutEach(
    const std::vector<std::pair<std::string, std::string>>& entries,
    const Expiration& expiration, const WriteOptions& options) {
  return std::vector<absl::Status>(entries.size(), MultiPut(entries, expiration, options));
}

const char* NodeStateName(NodeState s) {
  switch (s) {
    case NodeState::kJoining: return "joining";
    case NodeState::kActive: return "active";
    case NodeState::kDraining: return "draining";
    case NodeState::kRemoved: return "removed";
  }
  return "unknown";
}

}  // namespace crema
