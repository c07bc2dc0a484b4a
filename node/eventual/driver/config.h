// Configuration, results, statistics and the test observer of the eventual-mode driver
// (eventual_node.h). Every knob has a production default; the simulator scales the periods down.
//
// Thread safety: values; an observer is called on the node's event loop.
#ifndef CREMA_NODE_EVENTUAL_DRIVER_CONFIG_H_
#define CREMA_NODE_EVENTUAL_DRIVER_CONFIG_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "node/eventual/core/consistency.h"
#include "node/eventual/core/hint_set.h"
#include "node/eventual/core/record.h"
#include "node/eventual/core/replica_store.h"

namespace crema::eventual {

// Deliberate bugs, for proving that the dynamo scenario's oracles bite. TEST ONLY: never set
// outside sim/scenarios/dynamo tests.
struct PlantedBugs {
  bool ack_after_one = false;       // a write reports success after its first acknowledgement
  bool read_first_answer = false;   // a read returns the first answer, whatever R is
  bool forget_hints = false;        // hint replay drops hints without sending them
  bool ae_push_whole_leaves = false;  // anti-entropy pushes every key of a differing leaf
  bool no_repair = false;           // no anti-entropy, read repair, hints or hand-off at all
  bool any() const {
    return ack_after_one || read_first_answer || forget_hints || ae_push_whole_leaves || no_repair;
  }
};

struct EventualConfig {
  int replication = 3;  // N, REQUIRES: 1..kMaxReplication
  int vnodes = 64;      // ring points per member
  StoreConfig store;    // shards, Merkle depth, tombstone grace, capacity
  HintConfig hints;     // bounds and the hint window
  std::string disk_prefix = "eventual/";

  // Requests.
  absl::Duration request_timeout = absl::Seconds(2);
  absl::Duration retry_interval = absl::Milliseconds(250);  // resend to silent replicas
  int read_repair_one_in = 10;  // non-quorum reads that check every replica (0: never)
  bool default_sloppy = false;  // Consistency::sloppy when a request leaves it unset

  // Anti-entropy and hand-off.
  absl::Duration anti_entropy_interval = absl::Seconds(30);  // one exchange per period
  uint64_t anti_entropy_bytes_per_second = uint64_t{16} << 20;  // bandwidth bound
  uint32_t anti_entropy_shards_per_exchange = 256;
  absl::Duration exchange_step_timeout = absl::Seconds(2);

  // Hints and maintenance.
  absl::Duration hint_replay_interval = absl::Seconds(2);
  absl::Duration purge_interval = absl::Seconds(10);

  // Membership and recovery.
  // A founding member of a brand-new cluster starting for the first time: its empty disk means
  // it never acknowledged anything, so it trusts the shards it owns at once (like etcd's
  // --initial-cluster-state=new). Never set it on a restart or for a joining node: an empty disk
  // then means lost data, which must be pulled from the other replicas first.
  bool bootstrap_new_cluster = false;
  // The cluster's founding members (like etcd's --initial-cluster): the first ring of a node with
  // no saved ring, so a new cluster does not place data on the partial views gossip has while it
  // forms. Kept until the source reports on each (or ring_removal_delay passes).
  std::vector<NodeId> initial_members;
  absl::Duration ring_removal_delay = absl::Hours(1);  // a dead member leaves the ring after this
  absl::Duration recovery_skip_after = absl::Minutes(5);  // sync without a peer dead this long
  // How long the cluster needs to learn of a ring change (membership dissemination plus a
  // request's lifetime): a shard gained is synchronised only after this, so every write a
  // coordinator with the old ring sent elsewhere is already there to pull (eventual_node.h).
  absl::Duration ownership_settle = absl::Seconds(10);
  absl::Duration leave_settle = absl::Seconds(5);
  absl::Duration max_forward_skew = absl::Minutes(1);     // HLC (hlc.h)

  // Bounds.
  size_t max_inflight_requests = 1024;  // coordinated operations at once
  size_t max_pending_mutations = 4096;  // queued durable mutations
  size_t max_mutation_batch = 256;      // mutations per group commit

  PlantedBugs bugs;  // TEST ONLY
};

struct ReadOptions {
  Consistency consistency = Consistency::Quorum();
};

struct WriteOptions {
  Consistency consistency = Consistency::Quorum();
  absl::Duration ttl = absl::ZeroDuration();  // zero: no expiry
};

struct ReadResult {
  bool found = false;
  std::string value;
  Version version;         // of the newest record seen (value or tombstone); zero if none
  int64_t expires_at_ns = 0;
  int answers = 0;
  bool repaired = false;   // read repair wrote to at least one replica
};

struct WriteResult {
  Version version;
  int acks = 0;            // acknowledgements received when the call returned
  int hinted = 0;          // of which from stand-ins
};

struct EventualStats {
  uint64_t gets = 0, puts = 0, deletes = 0;
  uint64_t op_failures = 0, op_timeouts = 0;
  uint64_t replica_writes = 0, replica_reads = 0, not_ready_answers = 0;
  uint64_t read_repairs_sync = 0, read_repairs_async = 0;
  uint64_t hints_stored = 0, hints_delivered = 0, hints_expired = 0, hints_orphaned = 0,
           hints_superseded = 0, hints_refused = 0, hints_retired = 0;
  uint64_t exchanges = 0, exchanges_failed = 0, exchange_bytes = 0;
  uint64_t ae_keys_pushed = 0, ae_keys_pulled = 0;
  uint64_t handoff_keys_dropped = 0;
  uint64_t commits = 0, commit_failures = 0, purged = 0;
  uint64_t malformed_messages = 0, busy_refusals = 0;
  uint64_t recovered_records = 0, recovered_hints = 0, disk_wiped = 0, torn_tail_bytes = 0;
};

// What one anti-entropy exchange did (initiator's view).
struct ExchangeReport {
  NodeId initiator = kNoNode;
  NodeId peer = kNoNode;
  uint32_t shards = 0;
  uint32_t differing_shards = 0;
  uint32_t differing_leaves = 0;
  uint64_t bytes = 0;        // both directions
  uint64_t keys_pushed = 0;  // records sent to the peer
  uint64_t keys_pulled = 0;  // records fetched from the peer
  bool complete = false;     // every difference found was reconciled
};

// How a hint ends. kRetired: its stand-in decommissioned with the hint undelivered (its target
// unreachable); the record moved into the stand-in's store first, so the final push of the
// decommission carries it to the key's owners in the ring without the stand-in.
enum class HintOutcome : uint8_t { kDelivered, kSuperseded, kExpired, kOrphaned, kRetired };
const char* HintOutcomeName(HintOutcome outcome);

// Hooks for the simulator's oracles (null in production). Called synchronously on the loop.
class EventualObserver {
 public:
  virtual ~EventualObserver() = default;
  // A hint was stamped (its stored_at_ns read from the stand-in's wall clock) and written to the
  // hint map's pending group commit; HintStored follows once that commit succeeded. The hint
  // window runs from the stamp, so a stand-in stalled inside the commit has spent part of it.
  virtual void HintStamped(NodeId stand_in, const Hint& hint) {}
  virtual void HintStored(NodeId stand_in, const Hint& hint) {}
  virtual void HintEnded(NodeId stand_in, const Hint& hint, HintOutcome outcome) {}
  // A hint's removal was written to the hint map's pending group commit; HintEnded follows once
  // that commit succeeded. A crash inside the commit may leave the removal durable without
  // HintEnded: recovery then no longer finds the hint (HintsRecovered).
  virtual void HintRemovalStaged(NodeId stand_in, const Hint& hint, HintOutcome outcome) {}
  // Hints found on disk at every start (including any a failed commit left behind; empty if none).
  virtual void HintsRecovered(NodeId stand_in, const std::vector<Hint>& hints) {}
  // The hint map was unreadable (a snapshot that stays corrupt) and was wiped: its hints are lost.
  virtual void HintsLost(NodeId stand_in) {}
  // `initiator` begins its exchange number `exchange` (counted per incarnation): the trees it
  // compares, and so the keys it will move, are those of now.
  virtual void ExchangeStarted(NodeId initiator, uint64_t exchange) {}
  // One record sent by anti-entropy or hand-off from `from` to `to`, in that exchange.
  virtual void RecordTransferred(NodeId initiator, uint64_t exchange, NodeId from, NodeId to,
                                 const std::string& key, const Record& record) {}
  virtual void ExchangeDone(const ExchangeReport& report) {}
};

}  // namespace crema::eventual

#endif  // CREMA_NODE_EVENTUAL_DRIVER_CONFIG_H_
