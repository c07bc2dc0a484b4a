// RaftNode: one Raft group on a node — a RaftHost (raft_host.h) hosting a single GroupDriver
// (group_driver.h), with blocking, fiber-friendly calls. Use RaftHost directly for many groups.
//
// The loop, in the order raft.h requires (see raft_host.h): receive (Service::kRaft; garbage,
// spoofed senders and other groups dropped) -> Step; every tick_interval -> Tick; then per Ready:
// 1. persist (snapshot install, entries, hard state) and one Sync; 2. send (only after the Sync);
// 3. apply committed entries to the StateMachine, resolving futures; 4. Advance; then maybe a
// checkpoint + log compaction. Proposals made while the fiber is busy land in the same Ready.
//
// Blocking calls (fiber-only):
//   Propose(data)            -> the entry's index once applied here; UNAVAILABLE "not leader
//                               ...; leader hint: N"; DEADLINE_EXCEEDED after proposal_timeout.
//   ProposeForResult(data)   -> index and the StateMachine's result bytes for that entry.
//   ReadIndex()              -> a linearizable read point, returned once applied here.
//   ProposeConfChange(c)     -> the change's index once applied here (leader only).
//   TransferLeadership(to)   -> the term in which `to` leads, as seen here.
// The *Async variants return the GroupDriver's futures.
//
// Errors: a storage error stops the group (nothing unsynced is ever acknowledged); it reopens
// from disk after reopen_backoff. While its disk state fails verification (real corruption) it
// stays stopped and is retried with a growing backoff (group_driver.h).
//
// Thread safety: none; everything runs on the node's event loop. Call Shutdown() before
// destroying a RaftNode whose node keeps running; in simulation the Executor may die first.
#ifndef CREMA_CONSENSUS_DRIVER_RAFT_NODE_H_
#define CREMA_CONSENSUS_DRIVER_RAFT_NODE_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "consensus/driver/group_driver.h"
#include "consensus/driver/raft_host.h"
#include "consensus/driver/state_machine.h"
#include "consensus/raft.h"
#include "node/env.h"

namespace crema::raft {

struct RaftNodeOptions {
  Config raft;                     // id and group must be set; random_seed is drawn from the Env
  ConfState bootstrap;             // founding voters; empty = join an existing group
  std::string storage_prefix = "raft/";
  absl::Duration proposal_timeout = absl::Seconds(5);
  size_t inbox_capacity = 4096;    // kMaxInboxEnvelopes: envelopes beyond this are dropped
  size_t max_pending_proposals = 4096;
  // Added after the first draft:
  absl::Duration read_timeout = absl::Seconds(5);
  CheckpointPolicy checkpoint;     // default: never checkpoint/compact
  storage::StorageOptions storage;
  SnapshotStreamOptions snapshot_stream;
  absl::Duration reopen_backoff = absl::Seconds(1);
};

class RaftNode {
 public:
  // Opens storage, restores the state machine and starts the driving fiber. Fiber-only.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<RaftNode>> Start(
      Env env, const RaftNodeOptions& options, StateMachine* state_machine);
  ~RaftNode();
  void Shutdown();

  absl::StatusOr<Index> Propose(std::string data);
  absl::StatusOr<Applied> ProposeForResult(std::string data);
  absl::StatusOr<Index> ReadIndex();
  absl::StatusOr<Index> ProposeConfChange(const ConfChange& change);
  absl::StatusOr<Term> TransferLeadership(ReplicaId to);
  Future<Applied> ProposeAsync(std::string data) { return group_->Propose(std::move(data)); }
  Future<Index> ReadIndexAsync() { return group_->ReadIndex(); }

  const Raft& core() const { return group_->core(); }
  bool stopped() const { return group_->stopped(); }
  const absl::Status& failure() const { return group_->failure(); }
  GroupDriver& group() { return *group_; }
  const GroupDriver& group() const { return *group_; }
  RaftHost& host() { return *host_; }

 private:
  RaftNode(std::shared_ptr<RaftHost> host, GroupDriver* group, const RaftNodeOptions& options)
      : host_(std::move(host)), group_(group), options_(options) {}

  std::shared_ptr<RaftHost> host_;
  GroupDriver* group_;  // owned by host_
  RaftNodeOptions options_;
};

}  // namespace crema::raft

#endif  // CREMA_CONSENSUS_DRIVER_RAFT_NODE_H_
