#include "node/cluster/meta_state_machine.h"

#include <algorithm>

#include "absl/strings/string_view.h"
#include "node/wire.h"

namespace crema::cluster {

std::string MetaStateMachine::EncodeOutcome(const Outcome& outcome) {
  WireWriter w;
  w.PutBool(outcome.changed);
  w.PutVarint(outcome.version);
  if (!outcome.changed && !outcome.refusal.ok()) {
    w.PutU8(static_cast<uint8_t>(outcome.refusal.code()));
    const absl::string_view message = outcome.refusal.message();
    w.PutBytes(std::string_view(message.data(), std::min(message.size(), kMaxRefusalBytes)));
  }
  return std::move(w).Finish();
}

absl::StatusOr<MetaStateMachine::Outcome> MetaStateMachine::DecodeOutcome(
    std::string_view bytes) {
  WireReader r(bytes);
  Outcome o;
  if (!r.GetBool(&o.changed) || !r.GetVarint(&o.version)) {
    return absl::InvalidArgumentError("meta outcome: malformed");
  }
  if (!r.done()) {
    uint8_t code = 0;
    std::string message;
    // The largest absl::StatusCode is kUnauthenticated (16); OK is not a refusal.
    if (o.changed || !r.GetU8(&code) || code == 0 || code > 16 ||
        !r.GetBytes(&message, kMaxRefusalBytes) || !r.done()) {
      return absl::InvalidArgumentError("meta outcome: malformed refusal");
    }
    o.refusal = absl::Status(static_cast<absl::StatusCode>(code), message);
  }
  return o;
}

std::string MetaStateMachine::ApplyWithResult(raft::Index, std::string_view data) {
  absl::StatusOr<MetaCommand> command = DecodeMetaCommand(data);
  Outcome outcome;
  if (command.ok()) {
    outcome.refusal = ApplyMetaCommandOrWhy(map_, *command);
    outcome.changed = outcome.refusal.ok();
  }
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
