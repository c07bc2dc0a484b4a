// StateMachine: what a Raft group's replicated log drives (the application side of the driver).
//
// Contract:
//   * `ApplyWithResult` receives the committed, non-empty, driver-proposed commands in index
//     order, each exactly once per incarnation after the state was restored from the latest
//     checkpoint. The returned bytes are the command's result: the proposer's future
//     (GroupDriver::Propose, RaftNode::ProposeForResult) resolves with them, on the node that
//     proposed. The default calls `Apply` and returns no result (the first draft's interface).
//     Applying must be deterministic: every replica computes the same state.
//   * `Checkpoint` serialises the whole state as of the last applied index (the driver writes it
//     to the SnapshotStore, LZ4-compressed and checksummed, and compacts the log behind it).
//   * `Restore` replaces the whole state with a checkpoint (at startup from the latest local
//     snapshot, and when a snapshot streamed from the leader is installed). Bad bytes return an
//     error (the group stops), never a crash. An empty checkpoint is the empty initial state.
//
// Thread safety: none; called only from the driver's fiber on the node's event loop.
#ifndef CREMA_CONSENSUS_DRIVER_STATE_MACHINE_H_
#define CREMA_CONSENSUS_DRIVER_STATE_MACHINE_H_

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "consensus/types.h"

namespace crema::raft {

class StateMachine {
 public:
  virtual ~StateMachine() = default;
  virtual void Apply(Index index, std::string_view command) = 0;
  virtual std::string ApplyWithResult(Index index, std::string_view command) {
    Apply(index, command);
    return {};
  }
  virtual std::string Checkpoint() = 0;
  [[nodiscard]] virtual absl::Status Restore(std::string_view checkpoint) = 0;
};

}  // namespace crema::raft

#endif  // CREMA_CONSENSUS_DRIVER_STATE_MACHINE_H_
