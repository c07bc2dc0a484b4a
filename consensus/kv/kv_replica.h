// KvReplica: one node's replica of the KV store — a RaftNode driving a KvStateMachine. If the
// RaftNode cannot start (e.g. storage errors at recovery) it is retried after kRestartBackoff.
// Once running, a storage error stops the group and the driver itself reopens it from disk
// (restoring the machine from the latest snapshot); see consensus/driver/raft_node.h.
//
//   KvReplica replica(env, options);        // starts a fiber; the node comes up asynchronously
//   absl::StatusOr<Result> r = replica.Execute(command);   // in a fiber: through the Raft log
//
// Reads (`get`) take the path chosen by `ReadPath`: through the log like any command, or with a
// ReadIndex (the driver returns once this node has applied the read index; the local machine is
// then read without yielding, which is linearizable; with leases configured the core may answer
// from its lease), or either at random per read.
//
// `Execute` proposes the command and waits until it is applied locally, then returns the state
// machine's answer for *that* entry (checked by the command's session and seq, so a proposal id
// reused by another incarnation can never hand back someone else's result). Any error
// (not leader, timeout, node restarting, storage failure) means "unknown": the command may or may
// not be applied, and the caller may retry it with the same seq.
//
// A retry of a command this replica is still proposing (same session and seq) joins that
// proposal and gets its outcome instead of adding another log entry. Otherwise clients that
// retry faster than a slow log commits fill it with copies of their own commands, every answer
// arrives after its attempt gave up, and nobody is answered until the clients stop (congestion
// collapse: raft-kv seed 15919571267975899702, batch=1 inflight=1, 12 clients). Joined
// proposals are bounded by the in-flight requests (KvServer's kMaxInflightRequests).
//
// Thread safety: none; everything on the node's event loop. Destroy only after the node's
// Executor (the simulator's order), or after the fibers that call Execute have finished.
#ifndef CREMA_CONSENSUS_KV_KV_REPLICA_H_
#define CREMA_CONSENSUS_KV_KV_REPLICA_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <utility>

#include "absl/container/btree_map.h"
#include "absl/status/statusor.h"
#include "consensus/driver/raft_node.h"
#include "consensus/kv/command.h"
#include "consensus/kv/kv_state_machine.h"
#include "node/env.h"
#include "node/executor.h"

namespace crema::kv {

enum class ReadPath : uint8_t { kLog, kReadIndex, kMixed };

class KvReplica {
 public:
  static constexpr absl::Duration kRestartBackoff = absl::Milliseconds(200);

  KvReplica(Env env, raft::RaftNodeOptions options, ReadPath read_path = ReadPath::kLog);

  // TEST ONLY (the farm/shrinker/viewer demo: tools/seed_farm, tools/shrinking tests): a
  // deliberately planted bug — a replica that believes it is the leader answers gets from its own
  // state at once, without confirming leadership (no ReadIndex, no log): a deposed leader that has
  // not heard of its successor serves stale reads. Never set it anywhere else.
  void PlantLeaderLocalReadsBugForTest() { planted_leader_local_reads_ = true; }
  KvReplica(const KvReplica&) = delete;
  KvReplica& operator=(const KvReplica&) = delete;

  // Fiber-only. See the file comment.
  absl::StatusOr<Result> Execute(const Command& command);

  // nullptr while (re)starting.
  const raft::RaftNode* node() const { return running_ ? node_.get() : nullptr; }
  raft::RaftNode* mutable_node() { return running_ ? node_.get() : nullptr; }
  // The machine of the running node; nullptr while (re)starting.
  KvStateMachine* machine() { return running_ ? machine_.get() : nullptr; }
  // Start attempts that failed in this incarnation, and the last start error.
  uint64_t failed_starts() const { return failed_starts_; }
  const absl::Status& last_error() const { return last_error_; }
  uint64_t read_index_reads() const { return read_index_reads_; }
  // Retries answered by joining a proposal of the same command already in flight here.
  uint64_t joined_retries() const { return joined_retries_; }

 private:
  // Adapts the KV machine to the driver's StateMachine interface.
  class Adapter final : public raft::StateMachine {
   public:
    explicit Adapter(KvStateMachine* kv) : kv_(kv) {}
    void Apply(raft::Index index, std::string_view data) override { kv_->Apply(index, data); }
    std::string Checkpoint() override { return kv_->Checkpoint(); }
    absl::Status Restore(std::string_view checkpoint) override {
      return kv_->Restore(checkpoint);
    }

   private:
    KvStateMachine* kv_;
  };

  void Supervise();
  // Proposes `command` through the log and returns the machine's answer for its entry.
  absl::StatusOr<Result> ProposeAndAwait(const Command& command);

  // A command being proposed here, and the retries of it that wait for its outcome.
  struct Proposal {
    WaitList done;
    std::optional<absl::StatusOr<Result>> outcome;  // set when the proposal finished
  };
  absl::btree_map<std::pair<uint64_t, uint64_t>, std::shared_ptr<Proposal>> proposing_;  // (session, seq)
  absl::StatusOr<Result> ReadWithReadIndex(const Command& command);

  Env env_;
  raft::RaftNodeOptions options_;
  ReadPath read_path_;
  bool planted_leader_local_reads_ = false;
  std::unique_ptr<KvStateMachine> machine_;
  std::unique_ptr<Adapter> adapter_;
  std::unique_ptr<raft::RaftNode> node_;
  bool running_ = false;
  uint64_t failed_starts_ = 0;
  uint64_t read_index_reads_ = 0;
  uint64_t joined_retries_ = 0;
  absl::Status last_error_;
};

}  // namespace crema::kv

#endif  // CREMA_CONSENSUS_KV_KV_REPLICA_H_
