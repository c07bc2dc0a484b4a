// An in-memory cluster of pure Raft cores for tests: scenario scripts (scenario.h) and
// randomised property tests drive it step by step.
//
// It plays the driver's part faithfully: each node has a "disk" (hard state, snapshot, entries:
// exactly what consensus/storage would hold), a state machine (the applied data), and a clock
// advanced by tick_interval per tick. Ready handling follows raft.h's order: persist, send,
// apply, Advance. Messages go into one in-flight list (the network) until delivered or dropped;
// links can be cut (partitions). Snapshots are "streamed" by copying the sender's stored
// snapshot data to the receiver when a MsgSnap is delivered.
//
// Everything is deterministic: nodes in id order, messages in send order. Every event is
// appended to `trace` (if set), one line each, for golden output.
//
// Thread safety: none.
#ifndef CREMA_CONSENSUS_TESTING_CLUSTER_H_
#define CREMA_CONSENSUS_TESTING_CLUSTER_H_

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/container/btree_set.h"
#include "absl/status/status.h"
#include "absl/time/time.h"
#include "consensus/invariants.h"
#include "consensus/raft.h"

namespace crema::raft::testing {

// The applied state of one replica: (index, data) of every applied normal entry.
using StateMachine = std::vector<std::pair<Index, std::string>>;

struct Disk {
  HardState hard_state;
  SnapshotMeta snapshot;
  StateMachine snapshot_data;
  std::vector<Entry> entries;
};

struct Node {
  Config config;
  std::unique_ptr<Raft> raft;
  Disk disk;
  StateMachine state_machine;
  StateMachine staged_snapshot;  // received snapshot data awaiting install
  SnapshotMeta staged_meta;      // and its metadata
  Index applied_index = 0;       // last entry applied to state_machine (or snapshot index)
  absl::Time now = absl::UnixEpoch() + absl::Hours(1);
  std::vector<ReadState> read_states;  // every read state served, in order
  std::vector<std::string> rejected_reads;  // contexts of every read rejected, in order
};

class Cluster {
 public:
  explicit Cluster(std::vector<std::string>* trace = nullptr) : trace_(trace) {}

  // Adds a node. With `join`, it starts empty (to be added by a conf change later); otherwise it
  // bootstraps with `conf`.
  void AddNode(const Config& config, const ConfState& conf, bool join);
  bool Has(ReplicaId id) const { return nodes_.contains(id); }
  Node& node(ReplicaId id) { return nodes_.at(id); }
  Raft& raft(ReplicaId id) { return *nodes_.at(id).raft; }
  std::vector<ReplicaId> ids() const;

  void Tick(ReplicaId id);
  // Handles one Ready of `id` if it has one. Returns whether it did.
  bool ProcessReady(ReplicaId id);
  // Delivers (or drops, if `drop`) in-flight messages addressed to `to` (0 = any), in order.
  // Returns how many.
  size_t Deliver(ReplicaId to, bool drop = false);
  // Delivers the i-th in-flight message (for randomised tests). REQUIRES: i < in_flight().size().
  void DeliverAt(size_t i, bool drop);
  // Duplicates the i-th in-flight message (the network may deliver a message twice).
  void DuplicateAt(size_t i) { in_flight_.push_back(in_flight_.at(i)); }
  const std::vector<Message>& in_flight() const { return in_flight_; }
  // Alternates ProcessReady and Deliver until nothing is left (at most max_rounds rounds).
  // Returns false if it did not settle.
  bool Stabilize(int max_rounds = 1000);

  void Partition(const std::vector<ReplicaId>& a, const std::vector<ReplicaId>& b);
  void Isolate(ReplicaId id);
  void Heal() { cut_.clear(); }
  bool Connected(ReplicaId a, ReplicaId b) const;

  // Crash and restart from the node's disk: unsynced state is never kept (the harness persists
  // a Ready fully before anything else happens, so the disk is the synced state).
  absl::Status Restart(ReplicaId id);
  // The state machine takes a snapshot at `index` (<= what it applied, else an error).
  absl::Status Compact(ReplicaId id, Index index);
  // Advances a node's clock without ticking (a stall).
  void Sleep(ReplicaId id, absl::Duration d) { nodes_.at(id).now += d; }

  // Runs the invariant checker over all nodes (and, with a fixed voter set declared, the
  // forward-looking leader-completeness check, invariants.h).
  absl::Status CheckInvariants();
  // Declares that the voter set never changes (no conf changes will be proposed).
  void SetFixedVoters(std::vector<ReplicaId> voters) { fixed_voters_ = std::move(voters); }
  std::string Status(ReplicaId id) const;
  std::string LogString(ReplicaId id) const;

  // Notes role/term/leader changes since the last call into the trace.
  void NoteStateChanges();
  void Log(std::string line);

 private:
  void Persist(Node& n, const Ready& rd);
  void Apply(Node& n, const Ready& rd);
  void Dispatch(const Message& m, bool drop);

  std::vector<std::string>* trace_;
  absl::btree_map<ReplicaId, Node> nodes_;
  std::vector<Message> in_flight_;
  absl::btree_set<std::pair<ReplicaId, ReplicaId>> cut_;
  absl::btree_map<ReplicaId, std::string> last_state_;
  InvariantChecker checker_;
  std::vector<ReplicaId> fixed_voters_;
  std::string apply_violation_;  // first out-of-order or repeated apply seen
};

}  // namespace crema::raft::testing

#endif  // CREMA_CONSENSUS_TESTING_CLUSTER_H_
