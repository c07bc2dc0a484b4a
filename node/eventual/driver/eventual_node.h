// EventualNode: one node's eventual-mode service (the ZephyrCache design) on crema::Env — the
// fiber driver around the pure core of node/eventual/core, talking Service::kEventual.
//
// What a host gets (fiber-only calls; any node coordinates any key):
//   EventualNode node(env, &membership, config);           // membership: discovery::MembershipSource
//   CHECK_OK(node.Start());                                 // recovers from disk, starts the fibers
//   absl::StatusOr<WriteResult> w = node.Put("k", "v", {.consistency = Consistency::Quorum(),
//                                                       .ttl = absl::Minutes(5)});
//   absl::StatusOr<ReadResult> r = node.Get("k", {.consistency = Consistency::One()});
//   absl::StatusOr<WriteResult> d = node.Delete("k", {});
//   node.stats();  node.Decommission();  node.Stop();
// The lead's CacheNode can host it next to the Raft shards: both share the Env, the membership
// source and the ring; a keyspace's consistency mode chooses which one a RESP/HTTP request
// reaches. Errors: INVALID_ARGUMENT (bad key, value, TTL or consistency), UNAVAILABLE (too few
// replicas reachable: nothing was sent — a write certainly did not happen), FAILED_PRECONDITION
// (not started, recovering from disk, or stopped: nothing was sent), and after sending
// DEADLINE_EXCEEDED, ABORTED (too many refusals) or RESOURCE_EXHAUSTED (replicas full, or too
// many requests in flight): a write may then have happened on some replicas; with LWW a retry is
// safe.
//
// BUGGIFY sites (simulation only; each forces a behaviour the real system may show anyway):
// "eventual.drop_read" (a replica ignores a read), "eventual.slow_commit" (a group commit waits
// for a slow disk), "eventual.abort_exchange" (an anti-entropy exchange stops half-way),
// "eventual.late_hint" (a hint replay round is skipped).
//
// Protocol (docs/dynamo.md has the whole design, with citations):
//   * Writes: the coordinator stamps the record with its HLC (hlc.h), sends it to the key's N home
//     replicas — or, for an unhealthy one, to a stand-in that keeps a durable hint (ring.h) — and
//     returns once W count (home replicas only, unless the request is sloppy). Replicas make every
//     record durable (DurableMap, one group commit per batch) before acknowledging it.
//   * Reads: sent to the healthy home replicas (only R of them for R = 1, plus every replica on
//     1 in read_repair_one_in reads); the newest answer wins. Quorum reads (R > N/2) repair stale
//     answerers synchronously before returning; ONE reads chosen for repair do it in the
//     background.
//   * Hinted hand-off: stand-ins replay hints to their targets once healthy, drop them after the
//     hint window (expired) or once the target left the ring (orphaned).
//   * Anti-entropy: every anti_entropy_interval the node compares the Merkle trees of the shards
//     it shares with its next peer (round robin) and exchanges only the differing keys
//     (anti_entropy.cc), within anti_entropy_bytes_per_second.
//   * Ring: every member the source knows that has not left and has not been dead for
//     ring_removal_delay, plus the members of the last ring this node saved to disk (or, with none
//     saved, config.initial_members) — so a restart or a new cluster starts from the whole ring,
//     not from the few members gossip has found so far — until the source reports on them or
//     ring_removal_delay passes. Until the source has joined (its view
//     synchronised once), the node coordinates nothing (UNAVAILABLE) and answers no reads. A crash is a temporary failure (stand-ins and hints), not a reason to
//     move data (Dynamo §4.8). For ownership_settle after this node's ring changed, a write must
//     also be acknowledged by enough of the key's previous owners (n_live_old − N + W of them, if
//     positive) so that a coordinator still reading with the old ring meets it — Cassandra's
//     "pending ranges" idea. A joining node (absent from its remembered ring) takes its own
//     arrival as such a change: its first ring's "previous" ring is the ring without it. So does
//     a restarted node (it read a saved ring): if it was down longer than ring_removal_delay the
//     others removed it, and it cannot tell from its own disk whether they did.
//   * Rebalancing: a node that gains a shard (a member joined or left) pulls it from the owners of
//     the old and new ring before serving reads of it; a node holding data for shards it no longer
//     owns pushes it to the owners and then drops it (hand-off). `Decommission` pushes everything
//     to the new owners, forwards writes that still reach it, leaves the membership, delivers
//     its hints to the targets it can reach, retires the others into its store (kRetired), and
//     pushes once more after leave_settle — so no hint leaves with the node.
//
// Readiness (why a replica may answer a read "not ready"): the quorum argument needs every replica
// to hold what it acknowledged. A node whose disk came back empty (trust record missing: a new
// node, or a disk wiped for good) or that gained a shard has acknowledged nothing for it yet,
// while the coordinator may count it as a replica. So such a shard is *untrusted* until the node
// has run an anti-entropy exchange with every peer that owns the shard in its ring (and in the
// ring without itself, i.e. the previous owners), and with every peer the asking coordinator
// lists. Those exchanges count only if they began ownership_settle after the shard was gained
// (or the fresh disk started): by then every coordinator has heard of the change, so the writes
// that coordinators still using the old ring sent to the old owners are there to pull. Peers
// unavailable for recovery_skip_after are skipped (liveness over a dead peer, documented).
// Writes are always accepted. At a restart a node trusts only the shards its trust record names
// (the shards it trusted before, persisted beside the data; see ReadTrustRecord) and still owns —
// not a shard it gained just before a crash, or in a ring change while it was down, and never
// synchronised; nor, on a new or wiped disk, anything. Additions to the record may lag (a restart
// then resynchronises them); a removal is written as soon as the persist fiber runs — a crash in
// between is the window in which the node had not heard of the ring change either.
//
// Bounds: max_inflight_requests coordinated operations, max_pending_mutations queued durable
// mutations, message sizes (messages.h), the hint set and the store (capacity). Malformed messages
// are counted and dropped; nothing a peer sends can crash the node.
//
// Thread safety: none; everything runs on the node's event loop. The Env and the membership source
// must outlive the node; destroying it after its Executor (a simulated crash) is fine.
#ifndef CREMA_NODE_EVENTUAL_DRIVER_EVENTUAL_NODE_H_
#define CREMA_NODE_EVENTUAL_DRIVER_EVENTUAL_NODE_H_

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/container/btree_set.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "node/discovery/membership_source.h"
#include "node/env.h"
#include "node/eventual/core/hint_set.h"
#include "node/eventual/core/hlc.h"
#include "node/eventual/core/messages.h"
#include "node/eventual/core/replica_store.h"
#include "node/eventual/core/ring.h"
#include "node/eventual/core/tally.h"
#include "node/eventual/driver/config.h"
#include "node/eventual/storage/durable_map.h"
#include "node/random.h"
#include "node/sync.h"

namespace crema::eventual {

// Which stored keys belong to no live keyspace any more (a dropped keyspace's: node/keyspace), as
// the host that knows the keyspaces says. Such keys are not stored when they arrive (a
// replica write, a hint, an anti-entropy push or a repair: acknowledged as done — the keyspace is
// gone), and every purge pass erases those the store still holds, so replicas converge without
// them. IsDead must be deterministic and cheap; version() must change whenever keys may have
// become dead (a purge pass then scans the store).
class DeadKeys {
 public:
  virtual ~DeadKeys() = default;
  virtual uint64_t version() = 0;
  virtual bool IsDead(std::string_view key) = 0;
};

class EventualNode {
 public:
  // `observer` may be null (production). REQUIRES: config valid (replication in range, ...).
  EventualNode(Env env, discovery::MembershipSource* membership, EventualConfig config,
               EventualObserver* observer = nullptr);
  ~EventualNode();
  EventualNode(const EventualNode&) = delete;
  EventualNode& operator=(const EventualNode&) = delete;

  // Installs the Service::kEventual handler and spawns recovery, then the service fibers.
  // Messages that arrive before recovery finishes are dropped (senders retry).
  [[nodiscard]] absl::Status Start();
  // Stops every fiber; later calls fail with FAILED_PRECONDITION. Idempotent.
  void Stop();

  // --- Fiber-only API (see the file comment) ---
  [[nodiscard]] absl::StatusOr<ReadResult> Get(std::string_view key, const ReadOptions& options = {});
  [[nodiscard]] absl::StatusOr<WriteResult> Put(std::string_view key, std::string_view value,
                                                const WriteOptions& options = {});
  [[nodiscard]] absl::StatusOr<WriteResult> Delete(std::string_view key,
                                                   const WriteOptions& options = {});
  // Hands every shard off and leaves the membership. OK once done (then Stop the node);
  // DEADLINE_EXCEEDED if some shard could not be handed off within `timeout` (the node still
  // leaves: anti-entropy among the remaining replicas repairs what it did not push).
  [[nodiscard]] absl::Status Decommission(absl::Duration timeout = absl::Minutes(5));

  // Keys of dropped keyspaces (see DeadKeys); null: none. `dead` must outlive the node or be
  // unset (nullptr) first.
  void SetDeadKeys(DeadKeys* dead) { dead_ = dead; }
  // At most this many dead keys are erased per purge pass (the rest in the next passes).
  static constexpr size_t kMaxDeadKeysPerPass = 1024;

  // --- Introspection (tests, the simulator's checkers, /metrics) ---
  NodeId self() const { return env_.self; }
  bool recovered() const { return recovered_; }
  bool leaving() const { return leaving_; }
  const ReplicaStore& store() const { return store_; }
  const HintSet& hints() const { return hints_; }
  const EventualStats& stats() const { return stats_; }
  const EventualConfig& config() const { return config_; }
  // The ring as this node sees it now.
  const EventualRing& Ring();
  // Whether this node would answer reads of `shard` now (given no coordinator-listed peers).
  bool Trusted(ShardId shard) const { return trusted_.contains(shard); }
  size_t inflight_requests() const { return inflight_; }

 private:
  friend class ExchangeRunner;
  struct Incoming {
    NodeId from = kNoNode;
    Message message;
  };
  enum class MutationKind : uint8_t { kStore, kHint, kErase, kRemoveHint, kPurge };
  struct Mutation {
    MutationKind kind = MutationKind::kStore;
    std::string key;
    Record record;
    NodeId target = kNoNode;                  // kHint, kRemoveHint
    HintOutcome outcome = HintOutcome::kDelivered;  // kRemoveHint
    absl::AnyInvocable<void(ReplicaStatus)> done;   // may be empty
  };
  // Registers ids whose replies go to one channel; unregisters on destruction.
  class Waiter {
   public:
    explicit Waiter(EventualNode* node, size_t capacity = 256);
    ~Waiter();
    uint64_t NewId();  // registers a fresh id
    absl::StatusOr<Incoming> Recv(absl::Time deadline);
    Channel<Incoming>& channel() { return channel_; }

   private:
    EventualNode* node_;
    Channel<Incoming> channel_;
    std::vector<uint64_t> ids_;
  };

  // --- eventual_node.cc: plumbing, ring, readiness ---
  void OnMessage(NodeId from, std::string bytes);
  void Send(NodeId to, const Message& message);
  void Route(uint64_t id, NodeId from, Message message);
  bool Healthy(NodeId node);
  absl::Time Now() const { return env_.clock->MonotonicNow(); }
  absl::Time Wall() const { return env_.clock->Now(); }
  void ObserveClock(const Version& version);
  void OnRingChanged(const EventualRing& before, const EventualRing& after);
  // Peers a replica of `shard` must have synchronised with before it is trusted.
  std::vector<NodeId> RequiredPeers(ShardId shard);
  bool ReadyFor(ShardId shard, absl::Span<const NodeId> listed);
  bool Skippable(NodeId peer);
  absl::Status Recover();
  // The trust record ("identity" under disk_prefix): the shards whose records this disk holds
  // completely — every record this node acknowledged for them, and what their other owners held
  // when it synchronised them. A restart trusts exactly the recorded shards it still owns; a
  // new or wiped disk has no record and trusts nothing until synchronised. Written (temp, Sync,
  // Rename) by PersistLoop whenever the trusted set changed; deleted before a damaged data map
  // is wiped. Absent, damaged or not ours (an older version's marker): nothing is trusted.
  absl::StatusOr<std::optional<absl::btree_set<ShardId>>> ReadTrustRecord();
  absl::Status WriteTrustRecord(const absl::btree_set<ShardId>& trusted);
  // Makes the record match trusted_ (fiber-only). Additions may lag (a restart then resyncs
  // them); a failed write that would have removed a shard deletes the record instead.
  void PersistTrust();
  // Saves the ring's members (fiber-only; atomic write-rename). Errors only cost the next restart
  // a smaller first ring.
  void SaveRing();
  // The only writer of the trust record and the ring file: woken by ring and trust changes.
  void PersistLoop();
  void AfterRecovery();
  absl::Status CheckServing() const;
  FiberId SpawnTracked(std::string name, absl::AnyInvocable<void()> body);

  // --- replica_side.cc: replica handlers and the durable mutation pipeline ---
  void HandleReplicaWrite(NodeId from, ReplicaWrite message);
  void HandleReplicaRead(NodeId from, const ReplicaRead& message);
  void HandleHintDeliver(NodeId from, HintDeliver message);
  void HandleAePush(NodeId from, AePush message);
  // Applies `records` as store writes; `done` gets one status per record, in order.
  void ApplyRecords(std::vector<KeyedRecord> records,
                    absl::AnyInvocable<void(std::vector<ReplicaStatus>)> done);
  bool Enqueue(Mutation mutation);
  // Enqueues and waits (fiber-only); kBusy if the queue is full, kUnavailable if stopped.
  ReplicaStatus ApplyAndWait(Mutation mutation);
  void CommitLoop();
  void CommitBatch(std::vector<Mutation>& batch);
  void ForwardWhileLeaving(NodeId from, ReplicaWrite message);

  // --- coordinator.cc ---
  absl::StatusOr<WriteResult> Write(std::string_view key, Record record, const WriteOptions& options);
  absl::StatusOr<ReadResult> Read(std::string_view key, const ReadOptions& options);
  // Sends `record` to `targets` and waits until every one acknowledged or `deadline`; returns
  // the number of acknowledgements.
  int Repair(const std::string& key, const Record& record, const std::vector<NodeId>& targets,
             absl::Time deadline);
  void HandleClientRequest(NodeId from, ClientRequest request);
  absl::StatusOr<int> Required(const Consistency& consistency) const;
  // During ownership_settle after ring changes: one tally per recently replaced ring whose owners
  // of `shard` differ from the current ones (empty when none is needed).
  std::vector<WriteTally> PreviousOwnersTallies(ShardId shard, int required);

  // --- anti_entropy.cc ---
  // kBoth: repair both sides (co-owners). kPushOnly: hand-off, decommission. kPullOnly: a
  // readiness sync with a previous owner that no longer owns the shard (nothing to give it).
  enum class ExchangeMode : uint8_t { kBoth, kPushOnly, kPullOnly };
  absl::StatusOr<ExchangeReport> Exchange(NodeId peer, std::vector<ShardId> shards,
                                          ExchangeMode mode);
  void HandleAeRoots(NodeId from, const AeRoots& m);
  void HandleAeChildren(NodeId from, const AeChildren& m);
  void HandleAeLeafKeys(NodeId from, const AeLeafKeys& m);
  void HandleAePull(NodeId from, const AePull& m);
  // Waits until `bytes` fit the anti-entropy bandwidth budget. CANCELLED if stopped.
  absl::Status Throttle(uint64_t bytes);

  // --- maintenance.cc ---
  void SyncLoop();
  void SyncUntrusted();
  void HandOff();
  void PeriodicExchange();
  void HintLoop();
  void DeliverHints(NodeId target);
  // Ends `hint` with `outcome` (a removal through the group commit).
  void RemoveHint(const Hint& hint, HintOutcome outcome);
  // Moves the hints' records into this node's store and ends, with `outcome`, the hints whose
  // record is stored (or superseded there); the rest stay (store refused: they wait a round).
  // A hint may be the only copy of a sloppy write, so a hint never ends without its record
  // being kept somewhere. False if the node stopped while waiting.
  bool RetireHints(std::vector<Hint> hints, HintOutcome outcome);
  void MaintenanceLoop();
  // Pushes every shard this node holds to its owners in `ring`; true if all exchanges completed.
  bool PushAllTo(const EventualRing& ring);

  Env env_;
  discovery::MembershipSource* membership_;
  EventualConfig config_;
  EventualObserver* observer_;
  DeadKeys* dead_ = nullptr;
  uint64_t dead_scanned_version_ = 0;  // dead_->version() at the last complete scan
  bool dead_scan_complete_ = false;    // that scan found fewer than kMaxDeadKeysPerPass
  Random random_;
  HlcClock hlc_;
  ReplicaStore store_;
  HintSet hints_;
  std::unique_ptr<DurableMap> data_map_;
  std::unique_ptr<DurableMap> hint_map_;
  std::unique_ptr<Channel<Mutation>> mutations_;
  bool started_ = false;
  bool recovered_ = false;
  bool stopped_ = false;
  bool leaving_ = false;
  bool left_ = false;
  absl::Time started_at_;
  std::vector<FiberId> fibers_;
  size_t inflight_ = 0;
  uint64_t session_ = 0;  // this incarnation's client-protocol session (messages.h), never 0

  // Client requests seen recently, so a duplicated request is answered, not coordinated twice:
  // (client, req) -> the reply (empty while in flight); at most kMaxRememberedClientRequests,
  // the oldest forgotten first.
  static constexpr size_t kMaxRememberedClientRequests = 4096;
  absl::btree_map<std::pair<NodeId, uint64_t>, std::optional<ClientReply>> client_requests_;
  std::deque<std::pair<NodeId, uint64_t>> client_request_order_;

  // Reply routing: request id -> the waiting channel.
  uint64_t next_id_ = 0;
  absl::btree_map<uint64_t, Channel<Incoming>*> waiters_;

  // Ring, health, readiness.
  std::optional<EventualRing> ring_;
  std::vector<NodeId> remembered_members_;  // from the saved ring file
  bool ring_file_recovered_ = false;        // this incarnation read a saved ring: a restart
  bool ring_dirty_ = false;                 // ring changed since it was last saved
  // Rings replaced within the last ownership_settle, with the time each was replaced (at most
  // kMaxRecentRings; writes must also reach enough of their owners).
  static constexpr size_t kMaxRecentRings = 8;
  std::deque<std::pair<EventualRing, absl::Time>> recent_rings_;
  uint64_t ring_view_version_ = UINT64_MAX;
  absl::Time next_ring_check_ = absl::InfinitePast();
  absl::btree_map<NodeId, absl::Time> dead_since_;
  absl::btree_map<NodeId, absl::Time> unavailable_since_;
  absl::btree_set<ShardId> trusted_;
  absl::btree_set<ShardId> recovered_trusted_;  // the trust record read at recovery
  absl::btree_set<ShardId> persisted_trusted_;  // what the record on disk names now
  WaitList persist_wake_;
  absl::btree_map<ShardId, absl::Time> acquired_at_;  // untrusted owned shards: when gained
  absl::btree_map<ShardId, absl::btree_set<NodeId>> synced_;
  WaitList sync_wake_;
  size_t ae_cursor_ = 0;
  absl::Time throttle_until_ = absl::InfinitePast();

  EventualStats stats_;
};

}  // namespace crema::eventual

#endif  // CREMA_NODE_EVENTUAL_DRIVER_EVENTUAL_NODE_H_
