#include "node/cache_node/cache_config.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace crema {

absl::Status CacheConfig::Validate() const {
  auto bad = [](std::string_view what) {
    return absl::InvalidArgumentError(absl::StrCat("cache config: ", std::string(what)));
  };
  if (node_id == kNoNode) return bad("node_id must be set (not 0)");
  if (max_capacity <= 0) return bad("max_capacity must be > 0");
  if (default_ttl <= absl::ZeroDuration()) return bad("default_ttl must be > 0 (or infinite)");
  if (max_clock_skew < absl::ZeroDuration() || max_clock_skew > absl::Minutes(1)) {
    return bad("max_clock_skew must be within [0, 1m]");
  }
  if (max_clock_drift < absl::ZeroDuration() ||
      max_clock_drift >= tick_interval * (election_tick - 1)) {
    return bad("max_clock_drift must be within [0, the election timeout)");
  }
  if (num_shards == 0 || num_shards > kMaxShardsPerCluster) {
    return bad(absl::StrCat("num_shards must be within [1, ", kMaxShardsPerCluster, "]"));
  }
  if (replication_factor < 1 || replication_factor > kMaxReplicationFactor) {
    return bad(absl::StrCat("replication_factor must be within [1, ", kMaxReplicationFactor, "]"));
  }
  if (meta_replication_factor < 1 || meta_replication_factor > kMaxReplicationFactor) {
    return bad("meta_replication_factor must be within [1, 7]");
  }
  if (max_moves_in_flight < 1 || max_moves_in_flight > 1024) {
    return bad("max_moves_in_flight must be within [1, 1024]");
  }
  if (replace_dead_after < absl::ZeroDuration()) return bad("replace_dead_after must be >= 0");
  if (tick_interval < absl::Milliseconds(1) || tick_interval > absl::Seconds(10)) {
    return bad("tick_interval must be within [1ms, 10s]");
  }
  if (election_tick < 3 || election_tick > 1000) return bad("election_tick must be within [3, 1000]");
  std::vector<NodeId> founders = bootstrap;
  std::sort(founders.begin(), founders.end());
  if (std::adjacent_find(founders.begin(), founders.end()) != founders.end()) {
    return bad("bootstrap lists a node twice");
  }
  if (std::find(founders.begin(), founders.end(), kNoNode) != founders.end()) {
    return bad("bootstrap lists node 0");
  }
  if (!founders.empty() && !std::binary_search(founders.begin(), founders.end(), node_id)) {
    return bad("bootstrap must include this node (or be empty to join an existing cluster)");
  }
  // The initial keyspaces: what ParseKeyspaces guarantees (the map's decoder checks it again).
  if (keyspaces.size() > keyspace::kMaxKeyspaces) return bad("more than 16 keyspaces");
  for (size_t i = 0; i < keyspaces.size(); ++i) {
    absl::StatusOr<keyspace::KeyspaceSpec> again =
        keyspace::ParseKeyspaceSpec(keyspaces[i].ToString());
    if (!again.ok()) return bad(std::string(again.status().message()));
    for (size_t j = 0; j < i; ++j) {
      if (keyspaces[j].index == keyspaces[i].index || keyspaces[j].name == keyspaces[i].name) {
        return bad("keyspaces: index and name must be unique");
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace crema
