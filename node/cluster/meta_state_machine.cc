#include "node/cluster/meta_state_machine.h"

#include "node/wire.h"

namespace crema::cluster {

std::string MetaStateMachine::EncodeOutcome(const Outcome& outcome) {
  WireWriter w;
  w.PutBool(outcome.changed);
  w.PutVarint(outcome.version);
  return std::move(w).Finish();
}

absl::StatusOr<MetaStateMachine::Outcome> MetaStateMachine::DecodeOutcome(
    std::string_view bytes) {
  WireReader r(bytes);
  Outcome o;
  if (!r.GetBool(&o.changed) || !r.GetVarint(&o.version) || !r.done()) {
    return absl::InvalidArgumentError("meta outcome: malformed");
  }
  return o;
}

std::string MetaStateMachine::ApplyWithResult(raft::Index, std::string_view data) {
  absl::StatusOr<MetaCommand> command = DecodeMetaCommand(data);
  Outcome outcome;
  if (command.ok()) outcome.changed = ApplyMetaCommand(map_, *command);
  outcome.version = map_.version;
  if (outcome.changed) {
    deltas_.emplace_back(map_.version, std::string(data));
    while (deltas_.size() > kMaxDeltas) deltas_.pop_front();
    if (on_change_) on_change_();
  }
  return EncodeOutcome(outcome);
}

absl::Status MetaStateMachine::Restore(std::string_view checkpoint) {
  deltas_.clear();
  if (checkpoint.empty()) {
    map_ = ClusterMap();
  } else {
    absl::StatusOr<ClusterMap> map = DecodeClusterMap(checkpoint);
    if (!map.ok()) {
      map_ = ClusterMap();
      return map.status();
    }
    map_ = *std::move(map);
  }
  if (on_change_) on_change_();
  return absl::OkStatus();
}

std::optional<std::vector<std::string>> MetaStateMachine::DeltasSince(uint64_t version) const {
  std::vector<std::string> out;
  if (version == map_.version) return out;
  if (version > map_.version || deltas_.empty() || deltas_.front().first > version + 1) {
    return std::nullopt;
  }
  for (const auto& [v, command] : deltas_) {
    if (v > version) out.push_back(command);
  }
  return out;
}

}  // namespace crema::cluster
