// MetaStateMachine: the metadata Raft group's state machine — the cluster map, changed only by
// metadata commands (meta_command.h), plus a bounded window of the latest commands so nodes
// following the map can catch up by deltas instead of whole maps.
//
// The map (and so the checkpoint) is replicated state; the delta window is local (after a
// restore it is empty, and followers get the whole map once).
//
// Thread safety: none; the node's event loop.
#ifndef CREMA_NODE_CLUSTER_META_STATE_MACHINE_H_
#define CREMA_NODE_CLUSTER_META_STATE_MACHINE_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "consensus/driver/state_machine.h"
#include "node/cluster/cluster_map.h"
#include "node/cluster/meta_command.h"

namespace crema::cluster {

class MetaStateMachine final : public raft::StateMachine {
 public:
  static constexpr size_t kMaxDeltas = 4096;

  // The result of applying a command: whether it changed the map, the version after it, and for
  // a command that changed nothing, why (ApplyMetaCommandOrWhy; OK when the command did not
  // decode). Older outcomes without the reason decode with an OK one.
  struct Outcome {
    bool changed = false;
    uint64_t version = 0;
    absl::Status refusal;
  };
  static constexpr size_t kMaxRefusalBytes = 512;
  static std::string EncodeOutcome(const Outcome& outcome);
  static absl::StatusOr<Outcome> DecodeOutcome(std::string_view bytes);

  void Apply(raft::Index index, std::string_view command) override {
    (void)ApplyWithResult(index, command);
  }
  std::string ApplyWithResult(raft::Index index, std::string_view command) override;
  std::string Checkpoint() override { return EncodeClusterMap(map_); }
  [[nodiscard]] absl::Status Restore(std::string_view checkpoint) override;

  const ClusterMap& map() const { return map_; }
  // The encoded commands that took the map from `version` to the current one, in order; nullopt
  // if some of them are no longer kept (the caller then sends the whole map).
  std::optional<std::vector<std::string>> DeltasSince(uint64_t version) const;
  // Called after every change of the map (also after a Restore), on the loop. Must not block.
  void SetOnChange(std::function<void()> on_change) { on_change_ = std::move(on_change); }

 private:
  ClusterMap map_;
  std::deque<std::pair<uint64_t, std::string>> deltas_;  // (version after, encoded command)
  std::function<void()> on_change_;
};

}  // namespace crema::cluster

#endif  // CREMA_NODE_CLUSTER_META_STATE_MACHINE_H_
