// CacheNode: one node of the distributed cache — the implementation of CacheApi that the RESP
// and HTTP front ends, the embedded facade and the simulator's clients call.
//
// What it composes (the request path, top-down):
//   CacheApi call
//     -> key -> shard (membership::ShardOfKey) -> the shard's Raft group, by the cluster map
//     -> origin (origin.cc): this node's session for the shard, a sequence number, and the
//        leader: the local replica if it leads, else forwarded (node/forward/rpc.h) to the
//        leader hint / the shard's voters, retried with the SAME session and sequence number on
//        NotLeader / timeout / busy until the caller's deadline
//     -> the leader (serving.cc) stamps the command with its wall clock and proposes it
//     -> raft::RaftHost / GroupDriver (consensus/driver): replicated, persisted, committed
//     -> replicated::CacheStateMachine (cache/replicated) on every replica
//     -> cache::LocalCache (W-TinyLFU)
//   Reads: `local` from this node's replica when it is caught up with what this node already
//   acknowledged (else forwarded to the leader with that floor); `linearizable` through ReadIndex
//   (or a lease) on the local replica, or at the leader.
//
// The node's other duties:
//   * replica_set.cc — the cluster map (node/cluster): hosts exactly the replicas the map lists
//     for it (creating empty replicas for intents, destroying and wiping removed ones), follows
//     the map (pushes and fetches of deltas from the metadata group), bootstraps a new cluster
//     (founders all compute the same initial map).
//   * maintenance.cc — for shards it leads: proposes evictions chosen by its own W-TinyLFU policy
//     when over capacity, expiry ticks on idle shards, leadership moves to the preferred replica;
//     reports corrupt replicas; health to the Raft host (node down / up); runs the placement
//     controller (node/cluster/placement_controller.h) while it leads the metadata group.
//
// Health (who is alive, for placement): from CacheNodeOptions::health when set (crema_server's
// --membership=etcd: etcd's lease-backed view), else from the node's own SWIM + phi. The one
// source feeds every health decision — the controller's replace_dead_after clock, auto-admit,
// leadership balancing, the clock hand-off, Raft's node down/up — so two views never disagree
// inside one node. SWIM runs either way: it carries peer addresses and the clock bound's offsets.
//
// Durable node state, besides Raft's: "node/identity" (written after the first start, so a
// restarted founder never bootstraps again) and "node/cluster_map" (the latest map, persisted
// before acting on it by deleting replica data).
//
// Thread safety: none; the node's event loop. Every CacheApi method is fiber-only.
#ifndef CREMA_NODE_CACHE_NODE_CACHE_NODE_H_
#define CREMA_NODE_CACHE_NODE_CACHE_NODE_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/container/btree_set.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "cache/replicated/cache_state_machine.h"
#include "consensus/driver/raft_host.h"
#include "node/cache_node/cache_api.h"
#include "node/cache_node/cache_config.h"
#include "node/cache_node/payloads.h"
#include "node/cluster/cluster_map.h"
#include "node/cluster/meta_state_machine.h"
#include "node/cluster/placement_controller.h"
#include "node/discovery/membership_source.h"
#include "node/env.h"
#include "node/forward/rpc.h"
#include "node/membership/driver/membership_node.h"
#include "node/metrics/crema_metrics.h"

namespace crema {

// Internal timing and limits; the defaults are production's, tests and the simulator shorten them.
struct CacheNodeOptions {
  absl::Duration attempt_timeout = absl::Seconds(1);     // one forwarded attempt
  absl::Duration retry_backoff = absl::Milliseconds(20);  // doubled per retry up to 16x
  absl::Duration maintenance_interval = absl::Milliseconds(250);
  // Each maintenance_interval visits only the shards with Raft activity since the last pass
  // (RaftHost::TakeActiveGroups); every replica, dormant ones included, is visited once per
  // full_pass_every (idle shards' expiry ticks, balancing, evictions a refused proposal left).
  absl::Duration full_pass_every = absl::Seconds(5);
  absl::Duration tick_every = absl::Seconds(5);           // expiry ticks on idle shards
  absl::Duration balance_every = absl::Seconds(5);        // leadership balancing per shard
  absl::Duration map_refresh_every = absl::Seconds(10);   // map fetch when not told of changes
  absl::Duration report_every = absl::Seconds(1);
  absl::Duration local_read_wait = absl::Milliseconds(200);  // for a replica to reach a floor
  absl::Duration session_ttl = absl::Minutes(10);         // cluster-wide, at bootstrap
  absl::Duration max_request_age = absl::Minutes(2);      // cluster-wide, at bootstrap
  raft::CheckpointPolicy checkpoint{.every_entries = 10'000, .every_log_bytes = 64 << 20};
  membership::SwimConfig swim;
  // Wall-clock bound (clock_guard.cc; docs/cache-node.md, "Clock bound"): the node estimates its
  // wall-clock offset to its peers from SWIM acks and, while it is beyond
  // CacheConfig::max_clock_skew to a majority of them, refuses what depends on its wall clock.
  // `clock.max_offset` is ignored (max_clock_skew is the bound); false: never out of bound.
  bool monitor_clock = true;
  membership::ClockMonitorConfig clock;
  // Called on the loop at each transition of the verdict (crema_server logs it); may be empty.
  std::function<void(bool out_of_bound, const std::string& description)> on_clock_transition;
  // Where the node's health view comes from (see the header comment): nullptr = this node's SWIM.
  // Otherwise a source on the node's loop, started by the caller, that outlives the node; the
  // node subscribes at Start and unsubscribes at Shutdown. While it has not Joined() (its first
  // listing is not in), the placement controller does not step: an empty view is no verdict.
  discovery::MembershipSource* health = nullptr;
  size_t max_evict_keys = 1'000;  // keys per eviction proposal
  // TEST ONLY planted bugs (the cache scenario must catch each): replicas evict on their own;
  // forwarded retries use a new sequence number; local reads skip the node's floor.
  bool plant_replica_self_eviction = false;
  bool plant_retry_new_seq = false;
  bool plant_local_read_no_floor = false;
  // TryGetNow answers linearizable reads from any ready replica, without a leader's lease.
  bool plant_inline_read_without_lease = false;
  // TEST ONLY planted bug (real-process chaos must catch it; crema_server's
  // --testonly_plant=follower_reads): linearizable reads are served from this node's replica,
  // leader or not, without ReadIndex or a lease — stale on a lagging or partitioned follower.
  bool plant_linearizable_read_no_read_index = false;
  // Where the node records its metrics (node/metrics/crema_metrics.h); nullptr: nowhere. Must
  // outlive the node; one per registry, so it may outlive several nodes in turn (a simulated
  // restart). Recording never feeds back into a decision. Counters read from the Raft host and
  // the replicas, and every gauge, are brought up to date by RefreshMetrics().
  metrics::NodeMetrics* metrics = nullptr;
};

struct CacheNodeStats {
  uint64_t writes = 0;
  uint64_t reads_local = 0;
  uint64_t reads_linearizable = 0;
  uint64_t forwarded = 0;         // attempts sent to another node
  uint64_t forward_retries = 0;
  uint64_t combined_puts = 0;     // kMultiPut commands opened by MultiPutEach (combined_puts.cc)
  uint64_t evictions_proposed = 0;
  uint64_t ticks_proposed = 0;
  uint64_t leader_transfers = 0;
  uint64_t replicas_created = 0;
  uint64_t replicas_destroyed = 0;
  uint64_t map_fetches = 0;
  uint64_t clock_refusals = 0;   // writes and reads of TTL'd entries refused: clock out of bound
  uint64_t clock_handoffs = 0;   // leaderships handed away: clock out of bound
};

class CacheNode final : public CacheApi {
 public:
  // Fiber-only. Validates the config, starts Raft, membership and forwarding, and (a founder's
  // first start) bootstraps the cluster. Returns once the node runs; `ready()` tells when it
  // serves.
  static absl::StatusOr<std::unique_ptr<CacheNode>> Start(Env env, CacheConfig config,
                                                          CacheNodeOptions options = {});
  ~CacheNode() override;
  CacheNode(const CacheNode&) = delete;
  CacheNode& operator=(const CacheNode&) = delete;

  // Graceful stop (fiber-only): hands shard leaderships to other voters (bounded wait), leaves
  // the gossip group, stops Raft. Idempotent.
  void Shutdown(absl::Duration timeout = absl::Seconds(5));

  // --- CacheApi ---
  absl::StatusOr<std::optional<std::string>> Get(std::string_view key,
                                                 const ReadOptions& options) override;
  absl::StatusOr<std::vector<std::optional<std::string>>> MultiGet(
      const std::vector<std::string>& keys, const ReadOptions& options) override;
  absl::StatusOr<TtlResult> Ttl(std::string_view key, const ReadOptions& options) override;
  // Answers from this node's replica when no wait is needed: `local` when the replica is ready
  // and caught up with this node's floor (exactly ExecuteRead's local rule); `linearizable` on
  // the shard's leader while its lease is valid (raft::Raft::LeaseValid) and it has applied its
  // whole commit index. Anything else: nullopt (Get decides).
  std::optional<absl::StatusOr<std::optional<std::string>>> TryGetNow(
      std::string_view key, const ReadOptions& options) override;
  absl::StatusOr<PutResult> Put(std::string_view key, std::string_view value,
                                const PutOptions& options) override;
  absl::Status MultiPut(const std::vector<std::pair<std::string, std::string>>& entries,
                        const Expiration& expiration, const WriteOptions& options) override;
  // One kMultiPut command per shard, combined with other callers' entries for that shard in the
  // same turn of the loop (combined_puts.cc): all shards' commands reach the Raft host in the
  // same cycle and share its log sync, and a shard gets one proposal per turn, not one per caller.
  std::vector<absl::Status> MultiPutEach(
      const std::vector<std::pair<std::string, std::string>>& entries,
      const Expiration& expiration, const WriteOptions& options) override;
  absl::StatusOr<std::optional<std::string>> Delete(std::string_view key,
                                                    const WriteOptions& options) override;
  absl::StatusOr<bool> CompareAndSet(std::string_view key, std::optional<std::string> expected,
                                     std::string_view new_value, const Expiration& expiration,
                                     const WriteOptions& options) override;
  absl::StatusOr<int64_t> Increment(std::string_view key, int64_t delta,
                                    const WriteOptions& options) override;
  absl::StatusOr<bool> Expire(std::string_view key, const Expiration& expiration,
                              const WriteOptions& options) override;
  absl::StatusOr<bool> ExpireIf(std::string_view key, const Expiration& expiration,
                                ExpireCondition condition, const WriteOptions& options) override;
  absl::StatusOr<std::optional<std::string>> GetAndTouch(std::string_view key,
                                                         std::optional<Expiration> expiration,
                                                         const WriteOptions& options) override;
  absl::StatusOr<int64_t> Size(const ReadOptions& options) override;
  absl::Status AdmitNode(NodeId node, const WriteOptions& options) override;
  absl::Status DrainNode(NodeId node, const WriteOptions& options) override;
  absl::Status RemoveNode(NodeId node, const WriteOptions& options) override;
  absl::Status TransferShardLeader(uint32_t shard, NodeId to,
                                   const WriteOptions& options) override;
  ClusterStatus Status() override;
  // keyspaces.cc
  std::optional<KeyspaceTable> Keyspaces() override;
  uint64_t KeyspacesVersion() override { return keyspaces_version_; }
  absl::StatusOr<keyspace::Keyspace> CreateKeyspace(std::string_view spec,
                                                    const WriteOptions& options) override;
  absl::Status DropKeyspace(uint32_t index, uint64_t generation,
                            const WriteOptions& options) override;
  absl::Status CatchUpMap(absl::Duration timeout) override;

  // --- introspection (oracles, metrics, tests) ---
  struct ReplicaView {
    raft::GroupId group = 0;
    raft::ReplicaId replica = 0;
    raft::GroupDriver* driver = nullptr;              // null while opening
    replicated::CacheStateMachine* cache = nullptr;   // shard replicas
    cluster::MetaStateMachine* meta = nullptr;        // the metadata replica
  };
  std::vector<ReplicaView> Replicas() const;
  const cluster::ClusterMap& map() const { return map_; }
  bool ready() const { return map_.bootstrapped() && started_; }
  raft::RaftHost& raft_host() { return *host_; }
  membership::MembershipNode& membership() { return *membership_; }
  const CacheNodeStats& stats() const { return stats_; }
  const forward::RpcStats& rpc_stats() const { return rpc_->stats(); }
  NodeId id() const { return env_.self; }
  // Brings options.metrics up to date (node_metrics.cc): call it from the registry's collect
  // hook, so at every scrape. No-op without metrics. Loop thread.
  void RefreshMetrics();

 private:
  struct Hosted {
    raft::ReplicaId replica = 0;
    raft::GroupDriver* driver = nullptr;
    std::unique_ptr<replicated::CacheStateMachine> cache;
    std::unique_ptr<cluster::MetaStateMachine> meta;
    bool destroying = false;
    bool opening = false;  // CreateReplica is inside RaftHost::CreateGroup (which uses the SM)
    // Local reads are served only once a ReadIndex round since this replica was opened — or
    // last reopened after a disk failure, which rolls its state back to what is durable — showed
    // it holds everything committed before (so nothing this node acknowledged before a crash).
    // 1 + the driver's reopens() when that round completed; 0: none yet (see LocalReady).
    uint64_t ready_opening = 0;
    bool LocalReady() const { return driver != nullptr && ready_opening == driver->reopens() + 1; }
    // `opening`: the driver's reopens() when the ReadIndex round was started (a round that
    // straddles a reopen proves nothing about the reopened state).
    void MarkLocalReady(uint64_t opening) {
      if (driver != nullptr && driver->reopens() == opening) ready_opening = opening + 1;
    }
  };
  // This node's exactly-once session with one shard (session_table.h).
  struct OriginSession {
    uint64_t id = 0;
    uint64_t next_seq = 1;
    absl::btree_set<uint64_t> in_flight;
    uint64_t floor() const { return in_flight.empty() ? next_seq : *in_flight.begin(); }
  };
  // The outcome of a write, from wherever it was executed.
  struct WriteOutcome {
    raft::Index index = 0;
    replicated::Result result;
  };
  using ReadItem = payloads::ReadItem;
  using ReadOutcome = payloads::ReadReply;
  enum class ReadOp : uint8_t { kGet = 1, kTtl = 2 };

  CacheNode(Env env, CacheConfig config, CacheNodeOptions options);
  absl::Status StartInternal();

  // --- cache_node.cc: API plumbing ---
  absl::StatusOr<cluster::ShardId> ShardOf(std::string_view key) const;
  absl::Status ValidateKey(std::string_view key) const;
  replicated::Expiry ToExpiry(const Expiration& e) const;
  int64_t DefaultTtlNs() const;
  absl::StatusOr<WriteOutcome> Write(cluster::ShardId shard, replicated::Command command,
                                     absl::Duration timeout);
  absl::Status MetaChange(cluster::MetaCommand command, absl::Duration timeout);

  // --- keyspaces.cc ---
  // Proposes a metadata command at the metadata leader; its outcome (version reached, or why not).
  absl::StatusOr<cluster::MetaStateMachine::Outcome> MetaPropose(cluster::MetaCommand command,
                                                                 absl::Duration timeout);
  // Waits (fetching) until this node's map has `version`; DEADLINE_EXCEEDED at `deadline`.
  absl::Status WaitForMap(uint64_t version, absl::Time deadline);
  // The metadata leader's duty (maintenance.cc calls it every pass): purge the data of a dropped
  // keyspace, then propose forget-keyspace. One at a time, in a fiber; retried after a failure.
  void MaybePurgeKeyspaces();
  absl::Status PurgeKeyspace(uint32_t index, uint64_t generation, keyspace::Mode mode);

  // --- origin.cc: sessions, routing, forwarding ---
  absl::StatusOr<WriteOutcome> ExecuteWrite(raft::GroupId group, replicated::Command command,
                                            absl::Time deadline);
  absl::StatusOr<ReadOutcome> ExecuteRead(raft::GroupId group, ReadOp op,
                                          const std::vector<std::string>& keys,
                                          ReadConsistency consistency, absl::Time deadline);
  // Sends a request to the group's leader with retries (same payload every time).
  absl::StatusOr<forward::Reply> CallLeader(raft::GroupId group, forward::Request request,
                                            absl::Time deadline, bool* maybe_executed);
  // Who may lead `group`, best guess first; nodes the transport reports gone go last.
  std::vector<NodeId> LeaderCandidates(raft::GroupId group) const;
  // The leader this node's own replica of `group` follows (kNoNode: none known, or no replica).
  NodeId LocalLeader(raft::GroupId group) const;
  // Waits `wait` before the next attempt, or less: it ends as soon as this node's replica of
  // `group` follows a leader other than `seen` that is not reported gone (one elected
  // meanwhile). Polls local state every retry_backoff. False if the fiber was cancelled.
  bool AwaitRetry(raft::GroupId group, NodeId seen, absl::Duration wait);
  void NoteLeader(raft::GroupId group, NodeId leader);
  // The transport's reachability hint about `peer` (node/network.h): to the forwarder's Rpc, and
  // a gone peer's followers here wake (RaftHost::ReportLeaderGone). maintenance.cc.
  void OnPeerHint(NodeId peer, bool reachable);
  void RaiseFloor(raft::GroupId group, raft::Index index);
  raft::Index Floor(raft::GroupId group) const;

  // --- serving.cc: what a replica does for a request (local calls and forwarded ones) ---
  forward::Reply ServeWrite(const forward::Request& request);
  forward::Reply ServeRead(const forward::Request& request);
  forward::Reply ServeReconcile(const forward::Request& request);
  forward::Reply ServeTransfer(const forward::Request& request);
  forward::Reply ServeStatus(const forward::Request& request);
  forward::Reply ServeMetaPropose(const forward::Request& request);
  forward::Reply ServeMetaRead(const forward::Request& request);
  forward::Reply ServeReport(NodeId from, const forward::Request& request);
  forward::Reply NotLeaderReply(const Hosted& hosted) const;
  // Reads `keys` from the local replica (now, by this node's wall clock). UNAVAILABLE if one of
  // them has a deadline and this node's clock is out of bound (clock_guard.cc).
  absl::StatusOr<ReadOutcome> ReadLocal(Hosted& hosted, ReadOp op,
                                        const std::vector<std::string>& keys);
  bool CaughtUp(const Hosted& hosted, raft::Index floor) const;
  // A replica whose state can be read here now (not being destroyed, driver running, a cache).
  static bool Readable(const Hosted* hosted);
  // One ReadIndex round on this node's replica of `group` (REQUIRES: it has a running driver).
  // On success the replica is ready for local reads (Hosted::LocalReady), unless it was reopened
  // while the round ran. Look the replica up again afterwards: the wait may have let it go.
  absl::StatusOr<raft::Index> ReadIndexRound(raft::GroupId group, absl::Duration timeout);
  void InstallHandlers();

  // --- replica_set.cc: hosting replicas by the map; following the map ---
  Hosted* Find(raft::GroupId group);
  const Hosted* Find(raft::GroupId group) const;
  Hosted& AddHosted(raft::GroupId group);  // the group's entry, created empty if absent
  void EraseHosted(raft::GroupId group);
  void SetMap(cluster::ClusterMap map);
  void ScheduleReconcile();
  void ReconcileReplicas();
  absl::Status CreateReplica(raft::GroupId group, raft::ReplicaId replica, bool bootstrap);
  absl::Status DestroyReplica(raft::GroupId group);
  absl::Status WipeGroupFiles(raft::GroupId group);
  absl::Status PersistMap();
  // A founder's identity file, written once its founding groups exist (retried until it is).
  void PersistFounderIdentity();
  // A replica of a group's founding configuration (the bootstrap map's voters, generation 0,
  // before any membership change): created by bootstrapping on a founder's first start.
  bool IsFoundingReplica(raft::GroupId group, raft::ReplicaId replica) const;
  absl::StatusOr<cluster::ClusterMap> LoadPersistedMap();
  absl::Status LoadOrCreateIdentity(bool* first_start);
  void OnMetaChange();
  forward::Reply ServeMapFetch(const forward::Request& request);
  forward::Reply ServeMapPush(const forward::Request& request);
  void FetchMap(NodeId from);
  void PushMap();
  bool ApplyDeltas(uint64_t from_version, const std::vector<std::string>& deltas);

  // --- node_metrics.cc ---
  void CountForward(const absl::StatusOr<forward::Reply>& reply, absl::Duration took);
  void CountRead(bool hit);
  // Adds the growth of the replica's eviction and expiry counts since the last fold.
  void FoldCacheStats(raft::GroupId group, const Hosted& hosted);

  // --- clock_guard.cc: what this node stops doing while its wall clock is out of bound ---
  bool ClockOutOfBound() const;
  bool ClockOutOfBound(absl::Time mono, absl::Time wall) const;  // with the caller's readings
  // UNAVAILABLE naming the offset (counted in stats_.clock_refusals).
  absl::Status ClockRefusal();
  void OnClockTransition(const membership::ClockStatus& status, const std::string& description);
  // True if `node` gossips that its clock is out of bound (never a leader to hand over to).
  bool PeerClockOut(NodeId node) const;
  // A leader out of bound hands the shard to an available, caught-up voter whose clock is not
  // advertised out of bound. True if a transfer was started.
  bool HandOffForClock(raft::GroupId group, Hosted& hosted);

  // --- maintenance.cc ---
  void MaintenanceLoop();
  void LeaderDuties(raft::GroupId group, Hosted& hosted, absl::Time now);
  void MaybeEvict(raft::GroupId group, Hosted& hosted);
  void SendReport();
  void OnMembershipEvent(const membership::MembershipEvent& event);
  // --- maintenance.cc: the health view (options_.health, else SWIM) ---
  bool PeerAvailable(NodeId node) const;  // self: true
  std::vector<NodeId> LivePeers() const;  // live (alive or suspect) by the view, sorted
  bool HealthJoined() const;              // the view has been synchronised once
  void OnHealthEvent(const membership::MembershipEvent& event);  // Raft node down / up
  // The address of `node` from gossip, else from the health view; nullopt if neither knows it.
  std::optional<std::string> KnownAddress(NodeId node) const;
  std::unique_ptr<cluster::PlacementController::Context> MakeControllerContext();

  Env env_;
  CacheConfig config_;
  CacheNodeOptions options_;
  bool started_ = false;
  bool shutdown_ = false;
  bool founder_first_start_ = false;
  std::shared_ptr<raft::RaftHost> host_;
  std::unique_ptr<membership::MembershipNode> membership_;
  std::optional<discovery::MembershipSource::SubscriptionId> health_subscription_;
  std::unique_ptr<forward::Rpc> rpc_;
  std::unique_ptr<cluster::PlacementController> controller_;

  cluster::ClusterMap map_;
  // map_'s version when its keyspaces last changed (KeyspacesVersion).
  uint64_t keyspaces_version_ = 0;
  bool purging_keyspace_ = false;                          // a purge fiber runs
  absl::Time next_purge_attempt_ = absl::InfinitePast();  // after a failed purge
  std::unique_ptr<cluster::TargetPlacement> targets_;  // for map_
  uint64_t persisted_version_ = 0;
  // Ordered (deterministic iteration) and node-based, so a Hosted never moves while it is hosted;
  // hosted_index_ finds one in a single hash probe (the read path's Find). Only AddHosted and
  // EraseHosted change them.
  std::map<raft::GroupId, Hosted> hosted_;
  absl::flat_hash_map<raft::GroupId, Hosted*> hosted_index_;
  absl::btree_set<raft::GroupId> wipe_pending_;
  // Replicas of this node that failed to open with DATA_LOSS (really corrupt, not a transient bad
  // read): reported to the metadata leader, never re-created under the same replica id; the
  // group's files are wiped before a new replica (a new generation) of it is created here.
  absl::btree_map<raft::GroupId, raft::ReplicaId> corrupt_local_;
  bool reconcile_scheduled_ = false;
  bool reconciling_ = false;      // ReconcileReplicas is running
  bool reconcile_spawned_ = false;  // a fiber that will run it is spawned, not yet started
  bool fetching_map_ = false;
  absl::Time bootstrap_proposed_at_ = absl::InfinitePast();
  uint64_t pushed_version_ = 0;
  absl::Time last_map_news_ = absl::InfinitePast();

  uint64_t session_nonce_ = 0;
  absl::btree_map<raft::GroupId, OriginSession> sessions_;
  absl::btree_map<raft::GroupId, NodeId> leader_hints_;
  // Read-your-writes through this node. Never iterated (so a hash map keeps runs deterministic).
  absl::flat_hash_map<raft::GroupId, raft::Index> floors_;
  absl::btree_set<raft::GroupId> evicting_;              // eviction proposal in flight
  absl::btree_map<raft::GroupId, absl::Time> last_tick_;
  absl::btree_map<raft::GroupId, absl::Time> last_balance_;
  absl::btree_map<raft::GroupId, absl::Time> clock_handoff_at_;  // clock_guard.cc
  // Reported by nodes (at the metadata leader): replicas whose state is corrupt.
  absl::btree_set<std::pair<raft::GroupId, raft::ReplicaId>> corrupt_reports_;
  absl::Time last_report_ = absl::InfinitePast();
  absl::Time last_full_pass_ = absl::InfinitePast();
  absl::btree_set<raft::GroupId> corrupt_drivers_;  // seen corrupt by the maintenance pass
  size_t last_reported_corrupt_ = 0;
  CacheNodeStats stats_;
  // Metrics bookkeeping (node_metrics.cc): what was already added to the counters.
  struct CacheStatsMark {
    const replicated::CacheStateMachine* replica = nullptr;
    uint64_t evicted = 0;
    uint64_t expired = 0;
  };
  raft::GroupCounters raft_marks_;
  absl::btree_map<raft::GroupId, CacheStatsMark> cache_marks_;
  absl::btree_set<uint32_t> labelled_shards_;
  absl::btree_set<NodeId> labelled_peers_;
  // A caller's timeout, bounded to 1 ms..1 min.
  static absl::Duration Clamp(absl::Duration timeout);
  // Combined puts still taking entries (combined_puts.cc), by group and expiry.
  struct OpenPut;
  struct OpenKey {
    raft::GroupId group = 0;
    int expiry_kind = 0;
    int64_t expiry_ns = 0;
    friend auto operator<=>(const OpenKey&, const OpenKey&) = default;
  };
  std::shared_ptr<OpenPut> OpenCombinedPut(cluster::ShardId shard, const OpenKey& key,
                                           const replicated::Expiry& expiry, absl::Time deadline);
  absl::btree_map<OpenKey, std::shared_ptr<OpenPut>> open_puts_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace crema

#endif  // CREMA_NODE_CACHE_NODE_CACHE_NODE_H_
