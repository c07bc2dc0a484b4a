// RaftNode: drives one Raft core (consensus/raft.h) on a node's environment with one fiber.
//
// STATUS: first draft — single group, no snapshot streaming yet (a MsgSnap request is reported
// back to the core as failed), no ReadIndex futures, no multi-Raft coalescing. See docs/raft.md.
//
// The loop, in the order raft.h requires:
//   receive (Service::kRaft, decoded with message_codec.h; garbage dropped) -> Step;
//   every tick_interval -> Tick; then while HasReady:
//     1. persist: ApplySnapshot (if any), Append(entries), SetHardState, one Sync;
//     2. send messages (only after the Sync);
//     3. apply committed entries to the StateMachine, resolving proposal futures;
//     4. Advance.
// Proposal batching falls out of the loop: every proposal made while the fiber was busy lands in
// the same Ready, hence one Append and one Sync.
//
// Proposals: `Propose(data)` wraps data as [u32 origin node][u64 proposal id][data] so that the
// proposer can recognise its entry when it is applied; the StateMachine sees only `data`. The
// future resolves with the entry's index when applied, or fails with UNAVAILABLE("not leader",
// with the leader hint in the message) or DEADLINE_EXCEEDED after `proposal_timeout`.
//
// A storage error (disk full, EIO, DataLoss) stops the node: it stops acknowledging anything.
//
// Thread safety: none; everything runs on the node's event loop.
#ifndef CREMA_CONSENSUS_DRIVER_RAFT_NODE_H_
#define CREMA_CONSENSUS_DRIVER_RAFT_NODE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "consensus/raft.h"
#include "consensus/storage/raft_storage.h"
#include "node/env.h"
#include "node/sync.h"

namespace crema::raft {

// What the replicated log drives. Entries arrive in index order, each exactly once per
// incarnation after the state was restored from the latest snapshot.
class StateMachine {
 public:
  virtual ~StateMachine() = default;
  virtual void Apply(Index index, std::string_view data) = 0;
  virtual std::string Checkpoint() = 0;
  [[nodiscard]] virtual absl::Status Restore(std::string_view checkpoint) = 0;
};

struct RaftNodeOptions {
  Config raft;                     // id and group must be set; random_seed is drawn from the Env
  ConfState bootstrap;             // founding voters; empty = join an existing group
  std::string storage_prefix = "raft/";
  absl::Duration proposal_timeout = absl::Seconds(5);
  size_t inbox_capacity = 4096;    // kMaxInboxMessages: messages beyond this are dropped
  size_t max_pending_proposals = 4096;
};

class RaftNode {
 public:
  // Opens storage, restores the state machine and starts the driving fiber. Fiber-only.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<RaftNode>> Start(
      Env env, const RaftNodeOptions& options, StateMachine* state_machine);
  // Does not touch the Env (the simulator destroys the Executor first); call Shutdown() before
  // destroying a RaftNode whose node keeps running.
  ~RaftNode();
  void Shutdown();

  // Fiber-only: proposes `data`, waits until it is applied here (OK: its index) or fails.
  absl::StatusOr<Index> Propose(std::string data);

  const Raft& core() const { return *raft_; }
  bool stopped() const { return !failure_.ok(); }
  const absl::Status& failure() const { return failure_; }

 private:
  RaftNode(Env env, const RaftNodeOptions& options, StateMachine* sm);
  void Run();
  absl::Status HandleReady();
  void ApplyEntry(const Entry& entry);
  void Stop(absl::Status status);

  Env env_;
  RaftNodeOptions options_;
  StateMachine* state_machine_;
  std::unique_ptr<storage::RaftStorage> storage_;
  std::unique_ptr<Raft> raft_;
  Channel<Message> inbox_;
  FiberId fiber_ = 0;
  uint64_t next_proposal_id_ = 1;
  absl::btree_map<uint64_t, Promise<Index>> proposals_;
  absl::Status failure_;
};

}  // namespace crema::raft

#endif  // CREMA_CONSENSUS_DRIVER_RAFT_NODE_H_
