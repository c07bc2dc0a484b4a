// RaftHost: a node's multi-Raft host — many Raft groups (GroupDriver) over ONE Service::kRaft
// handler, ONE fiber and ONE tick timer.
//
// Example (in a fiber of the node):
//   std::shared_ptr<RaftHost> host = RaftHost::Start(env, RaftHostOptions{});
//   GroupOptions g;  g.raft.id = env.self;  g.raft.group = 7;  g.bootstrap.voters = {1, 2, 3};
//   absl::StatusOr<GroupDriver*> group = host->CreateGroup(g, &my_state_machine);
//   absl::StatusOr<Applied> r = (*group)->Propose("cmd").Wait(absl::Seconds(5));
//
// The loop (raft.h's order of effects, across groups — "group commit"):
//   wake on a network envelope, a client request, or the tick deadline;
//   step every received message into its group (garbage, spoofed senders and unknown groups are
//   dropped); hand queued client requests to the cores; on the tick, Tick every awake group (one
//   timer for all) and retry reopening stopped groups; then, while any group has a Ready:
//     1. Persist every ready group: each buffers its records (append + hard state) in the
//        node's ONE shared log, then ONE Sync makes all of them durable (with
//        RaftHostOptions::shared_log = false, each group has its own WAL and Sync),
//     2. only then send all their messages, batched per destination node: every message for the
//        same node produced in this cycle travels in ONE network envelope (message_batch.h), so
//        the heartbeats of all groups, which come due on the same shared tick, and their
//        responses, which are produced in one cycle on the receiving node, are coalesced,
//     3. apply and Advance every ready group.
//
// Groups are created and destroyed at runtime; each keeps its snapshots under its own prefix
// (default "raft/<group>/") on the node's Disk, and its entries and hard state in the shared log
// ("raftlog/", consensus/storage/shared_log.h), opened by the first CreateGroup. The host also
// keeps the log small (SharedLog::Maintain after cycles) and, after a log failure (a Disk error:
// every group that needed the failed Sync stops), reopens it on the tick, before the stopped
// groups reopen themselves; while the log is corrupt it is retried with a growing backoff.
// Quiescence (Config::quiesce in raft.h) is passed through; the host wires ReportNodeDown /
// ReportNodeUp (from the node's failure detector) to the groups with replicas on that node.
//
// Dormancy: after each iteration a group that is quiet with nothing pending
// (GroupDriver::Dormant) leaves the awake set, and the loop no longer visits it at all — not on
// ticks, not in cycles — so idle groups cost no CPU, however many there are. Whatever can give it
// work wakes it first: a message for it, a request queued on it (its kick hook), a finished
// snapshot stream, a health report about one of its peers. Waking moves its core's clock to now
// before anything else reaches it (leases and timers never see a stale clock). With quiescence
// off no group is ever dormant.
//
// Bounds: kMaxGroups groups, inbox_capacity envelopes waiting, kMaxCyclesPerWake Ready cycles
// and kMaxEnvelopesPerWake envelopes per wake-up (the rest wait for the next one).
//
// Lifetime: the loop fiber shares ownership of the host, so the host outlives a loop iteration
// that is parked in a disk call. Call Shutdown() when done (the node keeps running): the fiber
// then ends at its next wake-up and releases its reference. In simulation the Executor dies
// first (a crash): the destructor then touches nothing of the Env.
//
// Thread safety: none; the node's event loop.
#ifndef CREMA_CONSENSUS_DRIVER_RAFT_HOST_H_
#define CREMA_CONSENSUS_DRIVER_RAFT_HOST_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/container/btree_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "consensus/driver/group_driver.h"
#include "consensus/driver/message_batch.h"
#include "consensus/storage/io_lock.h"
#include "consensus/storage/shared_log.h"
#include "node/env.h"
#include "node/sync.h"

namespace crema::raft {

struct RaftHostOptions {
  absl::Duration tick_interval = absl::Milliseconds(100);  // every group's raft.tick_interval
  bool coalesce = true;  // false: one network message per Raft message (for comparison)
  size_t inbox_capacity = 16384;  // kMaxInboxEnvelopes: beyond this, envelopes are dropped
  // One durable log for all groups (one Sync per cycle); false: a WAL per group (for comparison).
  bool shared_log = true;
  std::string log_prefix = "raftlog/";
  storage::SharedLogOptions log;
  absl::Duration log_reopen_backoff = absl::Seconds(1);  // doubling up to 30 s while corrupt
  // Told how long each shared-log Sync took (the write and fsync of a cycle, by the node's
  // monotonic clock), for metrics; must not feed back into the node's decisions. Host fiber.
  std::function<void(absl::Duration)> on_log_sync;
};

struct RaftHostStats {
  uint64_t envelopes_sent = 0;       // network messages
  uint64_t messages_sent = 0;        // Raft messages inside them
  uint64_t envelopes_received = 0;
  uint64_t messages_received = 0;
  uint64_t dropped = 0;              // garbage, spoofed, unknown group, inbox overflow
  uint64_t dropped_oversize = 0;     // outgoing messages too big for an envelope (a bug if > 0)
  uint64_t cycles = 0;               // Ready cycles (each: persist all, send all, apply all)
  uint64_t log_syncs = 0;            // shared-log Syncs issued by cycles (at most one each)
  uint64_t log_reopens = 0;
  uint64_t awake_groups = 0;         // groups the loop still ticks (the rest are dormant)
  GroupCounters groups;              // summed over every group this host ever ran
};

class RaftHost {
 public:
  static constexpr size_t kMaxGroups = 100'000;
  static constexpr int kMaxCyclesPerWake = 64;
  static constexpr size_t kMaxEnvelopesPerWake = 1024;

  // Installs the Service::kRaft handler and starts the loop fiber.
  static std::shared_ptr<RaftHost> Start(Env env, const RaftHostOptions& options);
  ~RaftHost();
  RaftHost(const RaftHost&) = delete;
  RaftHost& operator=(const RaftHost&) = delete;

  // Stops the loop and every group (their futures fail with CANCELLED); drops the handler.
  void Shutdown();

  // Fiber-only. Opens the group's storage (bootstrapping a founding member) and adds it.
  // `options.raft.id` is this node's replica of the group: kNoReplica means env.self (generation
  // 0); otherwise NodeOfReplica(id) must be env.self (InvalidArgument if not).
  // AlreadyExists if the group is hosted here; storage errors as GroupDriver::Open. The
  // pointer stays valid until DestroyGroup or the host's destruction.
  [[nodiscard]] absl::StatusOr<GroupDriver*> CreateGroup(GroupOptions options,
                                                         StateMachine* state_machine);
  // Fiber-only. Removes the group (its futures fail with CANCELLED); with `delete_data`, also
  // deletes its records in the shared log (a synced tombstone: a group created again with this
  // id starts empty) and then every file under its storage prefix. NotFound if not hosted. On a
  // storage error the group is removed but its data may remain, consistent (create it again
  // and destroy it again to retry).
  [[nodiscard]] absl::Status DestroyGroup(GroupId group, bool delete_data);

  // Fiber-only. Deletes the data of a group that is NOT hosted here: its records in the shared
  // log (a synced tombstone, opening the log if needed) and every file under `storage_prefix`
  // (empty: the default "raft/<group>/"). For retrying a DestroyGroup whose deletion failed, or
  // wiping leftovers before a group is created again: a group created afterwards starts empty.
  // FailedPrecondition if the group is hosted (or opening).
  [[nodiscard]] absl::Status DeleteGroupData(GroupId group, std::string storage_prefix = "");

  GroupDriver* group(GroupId group) const;
  std::vector<GroupId> group_ids() const;  // ascending
  // The groups with activity since the previous call (ascending): awake now, waking, or woken and
  // gone dormant again in between. For one consumer that needs to look only at groups where
  // something happened (the cache node's maintenance pass); clears the record. A dormant group
  // absent from it has had no message, request, tick or health report since that call.
  std::vector<GroupId> TakeActiveGroups();
  // The failure detector says node `node` is down: wakes quiet groups that depend on it (each
  // group is told about its replicas on that node).
  void ReportNodeDown(NodeId node);
  // The failure detector sees node `node` alive again: un-quiesces the groups with a replica on
  // it, so a quiet leader that ignored it, or a partitioned old leader, is heard from again.
  void ReportNodeUp(NodeId node);
  // The transport hints that node `node`'s process is gone (node/network.h): wakes the followers
  // here whose leader is on it, as ReportPeerDown(leader) does (raft.h: a quiet follower's
  // election timer runs again, so it campaigns after an election timeout; it does not forget
  // the leader, so the lease promise is kept). Unlike ReportNodeDown it marks nothing down on
  // leaders: a wrong hint costs at most an election timer running, never replication.
  // Until ReportNodeBack or ReportNodeUp(node), a follower here that goes quiet behind a leader
  // on `node` (its last quiesce heartbeat overtook the hint) is woken the same way at once.
  void ReportLeaderGone(NodeId node);
  // The transport hears from `node` again: ends ReportLeaderGone's watch on it.
  void ReportNodeBack(NodeId node);
  const RaftHostStats& stats() const { return stats_; }
  // The node's shared log (nullptr before the first CreateGroup, or with shared_log = false).
  storage::SharedLog* shared_log() const { return log_.get(); }
  const RaftHostOptions& options() const { return options_; }

 private:
  // Shared with the loop fiber's captures, so it outlives whichever dies first.
  struct LoopState {
    bool body_destroyed = false;  // the loop fiber's body is gone (finished or unwound)
    bool shutdown = false;
  };
  // Destroyed with the loop fiber's body; records that it is gone.
  struct LoopGuard {
    std::shared_ptr<LoopState> state;
    LoopGuard(std::shared_ptr<LoopState> s) : state(std::move(s)) {}
    LoopGuard(LoopGuard&& other) = default;
    ~LoopGuard() {
      if (state) state->body_destroyed = true;
    }
  };

  RaftHost(Env env, const RaftHostOptions& options);
  void Run();
  void Kick() { (void)kick_.TrySend('k'); }
  void OnEnvelope(NodeId from, std::string bytes);
  void DrainInbox();
  void RunCycles(const std::vector<GroupDriver*>& groups);
  // False (and counted) if `encoded` cannot go in any envelope.
  bool FitsAnEnvelope(const std::string& encoded);
  void Route(Message m);
  void SendNow(Message m);
  void FlushBatches();
  void RemoveDestroyedGroups();
  std::vector<GroupDriver*> Groups() const;
  // Dormancy (see GroupDriver::Dormant): the loop ticks and cycles only awake groups.
  // Wake (host fiber) brings a dormant group's clock up to now at once, before it is stepped;
  // WakeLater (any fiber: a request was queued) leaves that to the next loop iteration.
  void Wake(GroupDriver* g);
  void WakeLater(GroupId group);
  std::vector<GroupDriver*> AwakeGroups();
  void SettleDormant(const std::vector<GroupDriver*>& awake);
  bool executor_gone() const { return loop_->body_destroyed && !loop_->shutdown; }
  // raft_host_log.cc: the shared log.
  absl::Status EnsureLog();
  void PersistAll(const std::vector<GroupDriver*>& ready);
  void MaybeReopenLog(absl::Time now);
  void MaybeMaintainLog();
  absl::Status DestroyGroupData(GroupId group, const std::string& prefix);
  GroupDriver::HostHooks Hooks(GroupId group);

  Env env_;
  RaftHostOptions options_;
  Channel<char> kick_;
  std::shared_ptr<LoopState> loop_ = std::make_shared<LoopState>();
  FiberId fiber_ = 0;
  std::deque<std::pair<NodeId, std::string>> inbox_;
  RaftHostStats stats_;  // before groups_: their drivers count into stats_.groups
  absl::btree_map<GroupId, std::unique_ptr<GroupDriver>> groups_;
  absl::btree_set<GroupId> awake_;    // hosted groups that are not (known to be) dormant
  absl::btree_set<GroupId> waking_;   // woken from other fibers, clock not yet advanced
  absl::btree_set<GroupId> woken_since_taken_;  // see TakeActiveGroups
  absl::btree_set<GroupId> opening_;
  // Groups to remove at the top of the next loop iteration, with the waiting caller's promise.
  std::vector<std::pair<GroupId, Promise<bool>>> to_destroy_;
  enum class Health : uint8_t { kDown, kUp, kLeaderGone, kBack };
  std::vector<std::pair<NodeId, Health>> health_reports_;
  absl::btree_set<NodeId> leaders_gone_;  // ReportLeaderGone'd, not reported back or up since
  absl::btree_map<NodeId, BatchBuilder> batches_;
  std::unique_ptr<storage::SharedLog> log_;
  storage::IoLock log_open_lock_;  // one fiber opens the log; the others wait for it
  absl::Time log_failed_at_ = absl::InfinitePast();
  absl::Duration log_backoff_;
};

}  // namespace crema::raft

#endif  // CREMA_CONSENSUS_DRIVER_RAFT_HOST_H_
