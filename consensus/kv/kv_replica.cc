#include "consensus/kv/kv_replica.h"

#include <utility>

namespace crema::kv {

KvReplica::KvReplica(Env env, raft::RaftNodeOptions options, ReadPath read_path)
    : env_(env), options_(std::move(options)), read_path_(read_path) {
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
  if (planted_leader_local_reads_ && command.kind == CommandKind::kGet &&
      node_->group().has_core() && node_->core().role() == raft::Role::kLeader) {
    // Deliberately wrong (see PlantLeaderLocalReadsBugForTest): leadership is not confirmed.
    std::optional<std::string> value = machine_->Read(command.key);
    if (!value) return Result{ResultCode::kNotFound, std::nullopt};
    return Result{ResultCode::kOk, std::move(value)};
  }
  if (command.kind == CommandKind::kGet &&
      (read_path_ == ReadPath::kReadIndex ||
       (read_path_ == ReadPath::kMixed && env_.random->OneIn(2)))) {
    return ReadWithReadIndex(command);
  }
  const std::pair<uint64_t, uint64_t> id{command.session, command.seq};
  if (auto it = proposing_.find(id); it != proposing_.end()) {
    std::shared_ptr<Proposal> joined = it->second;  // a retry: wait for the proposal in flight
    while (!joined->outcome) {
      if (absl::Status s = env_.executor->Wait(joined->done, absl::InfiniteFuture()); !s.ok()) {
        return s;
      }
    }
    ++joined_retries_;
    return *joined->outcome;
  }
  auto proposal = std::make_shared<Proposal>();
  proposing_.emplace(id, proposal);
  absl::StatusOr<Result> outcome = ProposeAndAwait(command);
  proposing_.erase(id);
  proposal->outcome = outcome;
  proposal->done.WakeAll(*env_.executor);
  return outcome;
}

absl::StatusOr<Result> KvReplica::ProposeAndAwait(const Command& command) {
  absl::StatusOr<raft::Index> index = node_->Propose(EncodeCommand(command));
  if (!index.ok()) return index.status();
  const KvStateMachine::AppliedResult* applied = machine_->ResultAt(*index);
  if (applied == nullptr || applied->session != command.session || applied->seq != command.seq) {
    return absl::UnavailableError("the applied entry is not this command");
  }
  return applied->result;
}

absl::StatusOr<Result> KvReplica::ReadWithReadIndex(const Command& command) {
  absl::StatusOr<raft::Index> read_index = node_->ReadIndex();
  if (!read_index.ok()) {
    env_.tracer->Record("kv.read_refused", std::string(read_index.status().message()));
    return read_index.status();
  }
  // The driver resolves the read once this node applied >= read_index; nothing ran since.
  if (node_->group().applied() < *read_index) {
    return absl::InternalError("ReadIndex resolved before the read index was applied");
  }
  ++read_index_reads_;
  std::optional<std::string> value = machine_->Read(command.key);
  if (!value) return Result{ResultCode::kNotFound, std::nullopt};
  return Result{ResultCode::kOk, std::move(value)};
}

}  // namespace crema::kv
