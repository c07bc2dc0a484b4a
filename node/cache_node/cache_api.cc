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

std::optional<KeyspaceTable> CacheApi::Keyspaces() { return std::nullopt; }

uint64_t CacheApi::KeyspacesVersion() { return 0; }

absl::StatusOr<keyspace::Keyspace> CacheApi::CreateKeyspace(std::string_view, const WriteOptions&) {
  return absl::UnimplementedError("this node cannot create keyspaces");
}

absl::Status CacheApi::DropKeyspace(uint32_t, uint64_t, const WriteOptions&) {
  return absl::UnimplementedError("this node cannot drop keyspaces");
}

absl::Status CacheApi::CatchUpMap(absl::Duration) { return absl::OkStatus(); }

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
