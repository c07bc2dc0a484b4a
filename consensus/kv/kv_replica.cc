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
      return;
    }
    last_error_ = node.status();
    ++failed_starts_;
    if (!env_.executor->Sleep(kRestartBackoff).ok()) return;
  }
}

absl::StatusOr<Result> KvReplica::Execute(const Command& command) {
  if (!running_) return absl::UnavailableError("replica starting");
  absl::StatusOr<raft::Index> index = node_->Propose(EncodeCommand(command));
  if (!index.ok()) return index.status();
  const KvStateMachine::AppliedResult* applied = machine_->ResultAt(*index);
  if (applied == nullptr || applied->session != command.session || applied->seq != command.seq) {
    return absl::UnavailableError("the applied entry is not this command");
  }
  return applied->result;
}

}  // namespace crema::kv
