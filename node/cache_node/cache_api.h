// CacheApi: what a Crema cache node offers its callers — the embedded facade, the RESP and HTTP
// front ends, and the simulator's clients. One interface, implemented by CacheNode
// (cache_node.h); front ends depend only on this header, so they stay thin and testable against
// a fake.
//
// Every call is fiber-only (node/executor.h): it runs on the node's event loop and returns when
// the operation is decided or `timeout` has passed. Keys are byte strings of 1..kMaxKeyBytes bytes,
// values of 0..kMaxValueBytes bytes.
//
// Consistency:
//   * Writes are linearizable: each is one entry in its shard's Raft log, applied once even when
//     the node retries it (same session and sequence number on every retry).
//   * `ReadConsistency::kLinearizable` reads reflect every write acknowledged before they began
//     (ReadIndex, or a leader lease when enabled).
//   * `ReadConsistency::kLocal` reads answer from a replica near the caller without a Raft round:
//     they may be stale, but never invented, and never older than what this node acknowledged
//     (writes and linearizable reads through this node are visible to later local reads through
//     it: read-your-writes per node).
//   * It is a cache: any read may miss an entry that capacity evicted or that expired. An entry
//     is never read as present after its deadline plus the cluster's maximum clock skew.
//
// Errors (absl::Status codes; front ends map them to their protocol):
//   INVALID_ARGUMENT     bad key, value, TTL or option (nothing happened)
//   FAILED_PRECONDITION  INCR on a value that is not a 64-bit integer, or overflow (nothing happened)
//   RESOURCE_EXHAUSTED   the shard is over its hard memory ceiling, or too many requests are
//                        queued (nothing happened; retry later)
//   UNAVAILABLE          no leader reachable / node not serving yet (nothing happened for reads;
//                        for writes: it may or may not have happened if it had been proposed —
//                        then the code is DEADLINE_EXCEEDED, see below)
//   DEADLINE_EXCEEDED    no decision within the timeout: a write may or may not take effect
//   PERMISSION_DENIED, NOT_FOUND, ALREADY_EXISTS   admin calls only (keyspace calls: see below)
//
// Thread safety: none; the node's event loop. The thread-safe embedded facade is
// transport/embedded/distributed_cache.h.
#ifndef CREMA_NODE_CACHE_NODE_CACHE_API_H_
#define CREMA_NODE_CACHE_NODE_CACHE_API_H_

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "node/keyspace/keyspace_config.h"
#include "node/network.h"

namespace crema {

inline constexpr size_t kMaxKeyBytes = 64 * 1024;            // 64 KiB
inline constexpr size_t kMaxValueBytes = 4 * 1024 * 1024;    // 4 MiB (peer messages carry them)
inline constexpr size_t kMaxMultiKeys = 10'000;              // keys of one MultiGet / MultiPut

enum class ReadConsistency : uint8_t { kLocal, kLinearizable };
const char* ReadConsistencyName(ReadConsistency c);  // "local", "linearizable"

// A key's time to live, as a write sets it.
struct Expiration {
  enum class Kind : uint8_t {
    kDefault,   // the cache's default TTL (CacheConfig::default_ttl; infinite if unset)
    kNever,     // no expiry (PERSIST)
    kAfter,     // `ttl` from when the shard's leader orders the write (EX / PX)
    kAt,        // at wall time `at` (EXAT / PXAT); a time in the past deletes the key
    kKeep,      // keep the current deadline if the key exists, else the default (KEEPTTL)
  };
  Kind kind = Kind::kDefault;
  absl::Duration ttl = absl::ZeroDuration();  // kAfter; REQUIRES > 0
  absl::Time at = absl::InfinitePast();        // kAt

  static Expiration Default() { return {}; }
  static Expiration Never() { return {Kind::kNever}; }
  static Expiration After(absl::Duration ttl) { return {Kind::kAfter, ttl}; }
  static Expiration At(absl::Time at) { return {Kind::kAt, absl::ZeroDuration(), at}; }
  static Expiration Keep() { return {Kind::kKeep}; }
};

// Both clocks read once (EventLoop's Clock: MonotonicNow, Now).
struct ClockReading {
  absl::Time monotonic;
  absl::Time wall;
};

struct ReadOptions {
  std::optional<ReadConsistency> consistency;  // unset: CacheConfig::default_read
  absl::Duration timeout = absl::Seconds(5);
  // TryGetNow only (other calls ignore it): clocks the caller read after this read arrived, in
  // the same turn of the loop, with no other handler run since — the read is then decided as of
  // that reading, its linearization point. A front end reads them once for a window of
  // pipelined reads. Unset: the node reads its clocks.
  std::optional<ClockReading> now;
};

enum class PutCondition : uint8_t { kAlways, kIfAbsent, kIfPresent };  // SET, NX, XX

// EXPIRE's options (Redis 7): NX = only if the key has no deadline, XX = only if it has one,
// GT = only if the new deadline is later than the current one, LT = only if it is earlier. A key
// without a deadline counts as expiring infinitely late: GT never holds for it, LT always does.
// Judged where the write is applied, atomically with it. NX goes with no other option, and GT
// not with LT (Valid()); XX may go with GT or LT.
struct ExpireCondition {
  bool if_no_expiry = false;   // NX
  bool if_has_expiry = false;  // XX
  bool if_greater = false;     // GT
  bool if_less = false;        // LT

  bool empty() const { return !if_no_expiry && !if_has_expiry && !if_greater && !if_less; }
  // The combinations Redis accepts.
  bool Valid() const {
    return !(if_no_expiry && (if_has_expiry || if_greater || if_less)) &&
           !(if_greater && if_less);
  }
  friend bool operator==(const ExpireCondition&, const ExpireCondition&) = default;
};

struct PutOptions {
  Expiration expiration;
  PutCondition condition = PutCondition::kAlways;
  bool return_previous = false;  // SET ... GET / GETSET
  absl::Duration timeout = absl::Seconds(5);
};

struct PutResult {
  bool written = false;                 // false only when the condition did not hold
  std::optional<std::string> previous;  // with return_previous: the value before (if any)
};

struct WriteOptions {
  absl::Duration timeout = absl::Seconds(5);
};

// What TTL / PTTL report.
struct TtlResult {
  enum class Kind : uint8_t { kMissing, kNoExpiry, kExpires } kind = Kind::kMissing;
  absl::Duration remaining = absl::ZeroDuration();  // kExpires: > 0
};

// --- Cluster administration and status ---

enum class NodeState : uint8_t { kJoining, kActive, kDraining, kRemoved };
const char* NodeStateName(NodeState s);  // "joining", "active", "draining", "removed"

struct NodeStatus {
  NodeId id = kNoNode;
  std::string address;              // peer address it advertises
  NodeState state = NodeState::kJoining;  // in the cluster map (kJoining: known by gossip only)
  std::string gossip_state;         // "alive", "suspect", "dead", "left", "unknown"
  double phi = 0;                   // phi-accrual suspicion as seen from this node
  bool available = false;
  int replicas = 0;                 // shard replicas it holds in the map
  int leaders = 0;                  // shards it leads, as last reported
};

struct ShardStatus {
  uint32_t shard = 0;
  std::vector<NodeId> voters;
  std::vector<NodeId> learners;
  NodeId leader = kNoNode;          // kNoNode if unknown
  uint64_t commit_index = 0;        // as last reported by the leader
  uint64_t max_apply_lag = 0;       // entries: commit - slowest voter's applied (as reported)
  int64_t entries = 0;              // cached keys, as last reported
};

// This node's wall clock against its peers' (node/membership/clock_monitor.h): while it is out
// of the skew bound the node refuses what depends on its wall clock (docs/cache-node.md).
struct ClockView {
  bool monitored = false;
  bool out_of_bound = false;
  int64_t median_offset_ms = 0;  // this node's clock minus the median peer's (estimated)
  int64_t max_offset_ms = 0;     // the estimate of largest magnitude (signed)
  int64_t peers_estimated = 0;   // live peers with a fresh estimate
  int64_t peers_beyond = 0;      // of those, surely beyond the bound
  std::string description;       // "clock in bound: offset +2 ms to the median peer (...)"
};

// The cluster map's live keyspaces (node/cluster/cluster_map.h), as this node last followed it.
struct KeyspaceTable {
  uint64_t version = 0;                  // the map version they are from
  std::vector<keyspace::Keyspace> live;  // by index
  uint64_t next_generation = 0;          // every generation below it was issued
};

struct ClusterStatus {
  NodeId self = kNoNode;
  uint64_t map_version = 0;
  uint32_t num_shards = 0;
  int replication_factor = 0;
  NodeId meta_leader = kNoNode;
  std::vector<NodeStatus> nodes;    // by id
  std::vector<ShardStatus> shards;  // by shard
  bool ready = false;               // this node can serve requests
  ClockView clock;
};

class CacheApi {
 public:
  virtual ~CacheApi() = default;

  // --- reads ---
  virtual absl::StatusOr<std::optional<std::string>> Get(std::string_view key,
                                                         const ReadOptions& options) = 0;
  // One result per key, in order. Keys on different shards are read independently.
  virtual absl::StatusOr<std::vector<std::optional<std::string>>> MultiGet(
      const std::vector<std::string>& keys, const ReadOptions& options) = 0;
  virtual absl::StatusOr<TtlResult> Ttl(std::string_view key, const ReadOptions& options) = 0;
  // Get without waiting, for front ends that answer pipelined reads inline on the loop (not
  // fiber-only; never blocks, never forwards). nullopt: this read cannot be decided without
  // waiting (a ReadIndex round, forwarding, a replica catching up...) — call Get from a fiber.
  // An answer is one Get could have given, with the same consistency guarantees. This default
  // never answers.
  virtual std::optional<absl::StatusOr<std::optional<std::string>>> TryGetNow(
      std::string_view key, const ReadOptions& options);

  // --- writes (linearizable) ---
  virtual absl::StatusOr<PutResult> Put(std::string_view key, std::string_view value,
                                        const PutOptions& options) = 0;
  // Atomic per shard, not across shards (documented divergence from Redis's MSET).
  virtual absl::Status MultiPut(const std::vector<std::pair<std::string, std::string>>& entries,
                                const Expiration& expiration, const WriteOptions& options) = 0;
  // MultiPut with one outcome per entry, in order: the entries of one shard are one atomic
  // command and share its outcome; shards are written concurrently, and a shard's failure does
  // not stop the others. REQUIRES: 1..kMaxMultiKeys entries with distinct keys. This default
  // runs MultiPut and gives its status to every entry.
  virtual std::vector<absl::Status> MultiPutEach(
      const std::vector<std::pair<std::string, std::string>>& entries,
      const Expiration& expiration, const WriteOptions& options);
  // Returns the removed value (nullopt if there was none).
  virtual absl::StatusOr<std::optional<std::string>> Delete(std::string_view key,
                                                            const WriteOptions& options) = 0;
  // `expected == nullopt`: only if absent. Returns whether it swapped.
  virtual absl::StatusOr<bool> CompareAndSet(std::string_view key,
                                             std::optional<std::string> expected,
                                             std::string_view new_value,
                                             const Expiration& expiration,
                                             const WriteOptions& options) = 0;
  // Adds `delta` to a decimal 64-bit integer value (absent = 0) and returns the new value; a new
  // key gets the default TTL, an existing one keeps its deadline.
  virtual absl::StatusOr<int64_t> Increment(std::string_view key, int64_t delta,
                                            const WriteOptions& options) = 0;
  // Sets a live key's expiration (kAfter / kAt / kNever); false if the key is absent.
  virtual absl::StatusOr<bool> Expire(std::string_view key, const Expiration& expiration,
                                      const WriteOptions& options) = 0;
  // Expire (kAfter / kAt only) if `condition` holds when the write is applied; false if the key
  // is absent or the condition does not hold. INVALID_ARGUMENT for a combination Redis refuses.
  // This default serves an empty condition with Expire and refuses the others (UNIMPLEMENTED):
  // an implementation offers them only where it can decide them atomically.
  virtual absl::StatusOr<bool> ExpireIf(std::string_view key, const Expiration& expiration,
                                        ExpireCondition condition, const WriteOptions& options);
  // GETEX: returns the live value and, if `expiration` is set, changes its deadline.
  virtual absl::StatusOr<std::optional<std::string>> GetAndTouch(
      std::string_view key, std::optional<Expiration> expiration,
      const WriteOptions& options) = 0;

  // --- whole cache ---
  // Live keys over all shards, as of each shard leader's latest report (approximate).
  virtual absl::StatusOr<int64_t> Size(const ReadOptions& options) = 0;

  // --- administration (through the metadata group) ---
  // Makes a node known by gossip a data node (it then receives shard replicas).
  virtual absl::Status AdmitNode(NodeId node, const WriteOptions& options) = 0;
  // Moves every replica off the node, then marks it removed.
  virtual absl::Status DrainNode(NodeId node, const WriteOptions& options) = 0;
  // Removes a node at once (its replicas are replaced elsewhere); for dead nodes.
  virtual absl::Status RemoveNode(NodeId node, const WriteOptions& options) = 0;
  virtual absl::Status TransferShardLeader(uint32_t shard, NodeId to,
                                           const WriteOptions& options) = 0;
  virtual ClusterStatus Status() = 0;

  // --- keyspaces created at run time (through the metadata group; front ends reach them through
  // node/keyspace/keyspace_api.h, which adds names and the eventual mode) ---
  // The map's live keyspaces; nullopt when the map has none — not bootstrapped yet, or
  // bootstrapped before keyspaces were kept in the map (then the server's --keyspaces rule).
  // Not fiber-only. This default: nullopt.
  virtual std::optional<KeyspaceTable> Keyspaces();
  // A number that changes whenever Keyspaces() may have changed (cheap: read per request). Not
  // fiber-only. This default: 0.
  virtual uint64_t KeyspacesVersion();
  // Proposes create-keyspace(spec) (keyspace_config.h syntax) and waits until this node's map has
  // applied it (read-your-writes for the creator); returns the keyspace with its generation.
  // INVALID_ARGUMENT naming the field, ALREADY_EXISTS (index or name taken), RESOURCE_EXHAUSTED
  // (too many dropped keyspaces not yet purged), UNAVAILABLE (no metadata quorum; nothing
  // happened), DEADLINE_EXCEEDED (it may have happened). This default: UNIMPLEMENTED.
  virtual absl::StatusOr<keyspace::Keyspace> CreateKeyspace(std::string_view spec,
                                                            const WriteOptions& options);
  // Proposes drop-keyspace(index, generation) and waits until this node's map has applied it:
  // every node then refuses the keyspace. NOT_FOUND (no such live keyspace), INVALID_ARGUMENT
  // (keyspace 0), UNAVAILABLE, DEADLINE_EXCEEDED. This default: UNIMPLEMENTED.
  virtual absl::Status DropKeyspace(uint32_t index, uint64_t generation,
                                    const WriteOptions& options);
  // One catch-up of this node's map (fiber-only): a ReadIndex round on the metadata group, then a
  // wait until this node's map has reached the version it showed. After it, every keyspace
  // change committed before the call is in Keyspaces(). This default: OK at once.
  virtual absl::Status CatchUpMap(absl::Duration timeout);
};

}  // namespace crema

#endif  // CREMA_NODE_CACHE_NODE_CACHE_API_H_
