// CacheConfig: everything a cache node is started with (CacheNode::Start, crema_server's flags,
// the embedded facade). Validate() names the first bad field; nodes refuse to start without a
// valid config.
//
// Cluster-wide settings (num_shards, replication_factor, shard capacity) are fixed when the
// cluster is bootstrapped and then live in the replicated cluster map; a node joining an existing
// cluster takes them from there and ignores its own values for them.
//
// Example (a founding member of a 3-node cluster):
//   CacheConfig config;
//   config.node_id = 1;
//   config.bootstrap = {1, 2, 3};          // the same list on all three founders
//   config.max_capacity = 100'000;         // entries per node
//   config.default_ttl = absl::Hours(1);
//
// Thread safety: a plain value.
#ifndef CREMA_NODE_CACHE_NODE_CACHE_CONFIG_H_
#define CREMA_NODE_CACHE_NODE_CACHE_CONFIG_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "node/cache_node/cache_api.h"
#include "node/keyspace/keyspace_config.h"
#include "node/network.h"

namespace crema {

enum class CapacityUnit : uint8_t {
  kEntries,  // max_capacity counts entries
  kBytes,    // max_capacity counts bytes: key + value + kEntryOverheadBytes per entry
};

inline constexpr int64_t kEntryOverheadBytes = 64;  // bookkeeping charged per entry (bytes unit)
inline constexpr uint32_t kMaxShardsPerCluster = 65'536;
inline constexpr int kMaxReplicationFactor = 7;

struct CacheConfig {
  // --- this node ---
  NodeId node_id = kNoNode;
  std::string peer_address;        // advertised to peers through gossip ("host:port")
  std::vector<NodeId> seeds;       // gossip seeds to join through (self ignored)
  // Founding data nodes of a NEW cluster, identical on every founder; empty = join an existing
  // cluster through `seeds` and wait to be admitted. Ignored once the node has durable state.
  std::vector<NodeId> bootstrap;

  // --- capacity and expiry (per node; see the cluster map for how shards divide it) ---
  int64_t max_capacity = 100'000;
  CapacityUnit capacity_unit = CapacityUnit::kEntries;
  absl::Duration default_ttl = absl::InfiniteDuration();
  ReadConsistency default_read = ReadConsistency::kLocal;
  // Bound on the wall-clock difference between any two nodes. TTLs are judged by wall clocks, so
  // an entry can be read up to this long after its deadline; leases allow for it too.
  absl::Duration max_clock_skew = absl::Milliseconds(500);

  // --- cluster-wide, used at bootstrap only ---
  uint32_t num_shards = 64;
  int replication_factor = 3;
  int meta_replication_factor = 3;  // voters of the metadata group (3 or 5)
  // The cluster map's initial keyspaces (generation 0), from keyspace::ParseKeyspaces; empty: the
  // strong default keyspace 0 only. Later keyspaces are created at run time (CreateKeyspace).
  std::vector<keyspace::KeyspaceSpec> keyspaces;

  // --- membership and placement ---
  // Admit every node gossip reports alive (convenient for local clusters); off = explicit admit.
  bool auto_admit = false;
  // Replace the replicas of a node that has been unavailable this long; zero = never.
  absl::Duration replace_dead_after = absl::ZeroDuration();
  int max_moves_in_flight = 4;  // concurrent replica moves started by the placement controller

  // --- Raft timing ---
  absl::Duration tick_interval = absl::Milliseconds(100);
  int election_tick = 10;
  bool lease_reads = true;  // linearizable reads by leader lease when valid, else ReadIndex
  // Bound on how much any node's monotonic clock may run fast or slow over one lease (an
  // election timeout); a lease is shortened by it (raft.h, "Leader leases").
  absl::Duration max_clock_drift = absl::Milliseconds(50);

  // --- storage (this node) ---
  // Every Raft group of the node persists into ONE shared log (one fsync per host cycle for all
  // of them; consensus/storage/shared_log.h). false: a WAL per group, one fsync per group per
  // cycle — only for measuring what the shared log saves (docs/cache-node.md, "Storage").
  bool raft_shared_log = true;

  [[nodiscard]] absl::Status Validate() const;
};

}  // namespace crema

#endif  // CREMA_NODE_CACHE_NODE_CACHE_CONFIG_H_
