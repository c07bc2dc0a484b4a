#include "consensus/kv/kv_replica.h"

#include <utility>

namespace crema::kv {

KvReplica::KvReplica(Env env, raft::RaftNodeOptions options)
    : env_(env), options_(std::move(options)) {
  env_.executor->Spawn("kv.replica", [this] { Supervise(); });
}

void KvReplica::Supervise() {
  while (true) {
    machine_ = std::make_unique<KvStateMachine>();
    adapter_ = std::make_unique<Adapter>(machine_.get());
    absl::StatusOr<std::unique_ptr<raft::RaftNode>> node =
        raft::RaftNode::Start(env_, options_, adapter_.get());
    if (absl::IsCancelled(node.status())) return;
    if (node.ok()) {
      node_ = *std::move(node);
      running_ = true;
      ++starts_;
      while (!node_->stopped()) {
        if (!env_.executor->Sleep(kHealthPoll).ok()) return;
      }
      last_error_ = node_->failure();
      running_ = false;
      node_->Shutdown();
      // Proposals were failed by the stop; let their fibers leave Propose before destroying.
      while (inflight_ > 0) {
        if (!env_.executor->Sleep(kHealthPoll).ok()) return;
      }
      node_.reset();
    } else {
      last_error_ = node.status();
    }
    if (!env_.executor->Sleep(kRestartBackoff).ok()) return;
  }
}

absl::StatusOr<Result> KvReplica::Execute(const Command& command) {
  if (!running_) return absl::UnavailableError("replica restarting");
  raft::RaftNode* node = node_.get();
  KvStateMachine* machine = machine_.get();
  ++inflight_;
  absl::StatusOr<raft::Index> index = node->Propose(EncodeCommand(command));
  --inflight_;
  if (!index.ok()) return index.status();
  if (!running_ || machine != machine_.get()) return absl::UnavailableError("replica restarted");
  const KvStateMachine::AppliedResult* applied = machine->ResultAt(*index);
  if (applied == nullptr || applied->session != command.session || applied->seq != command.seq) {
    return absl::UnavailableError("the applied entry is not this command");
  }
  return applied->result;
}

}  // namespace crema::kv
