// GroupLog: the durable log of ONE Raft group, as RaftStorage and the driver use it — entries,
// hard state and resets, made durable by Sync.
//
// Two implementations:
//   * Wal (wal.h): the group's own segmented files, one File::Sync per Sync.
//   * SharedGroupLog (shared_log.h): the group's records in the node's one shared log; Sync
//     makes everything buffered by every group durable with one File::Sync (group commit).
//
// Contract (both): Append/SetHardState/Reset only buffer; nothing is durable before Sync returns
// OK. Append(entries) at index i replaces every stored entry from i on (Raft's rule); Reset(i, t)
// empties the log, the next entry being i + 1 (a snapshot at i was installed). Compact(i) lets the
// log drop entries below i (never needed again: a snapshot covers them). Any Disk error makes the
// log failed: every later call returns it until the owner reopens (recovery).
//
// Thread safety: none; from fibers of one node's event loop.
#ifndef CREMA_CONSENSUS_STORAGE_GROUP_LOG_H_
#define CREMA_CONSENSUS_STORAGE_GROUP_LOG_H_

#include <vector>

#include "absl/status/status.h"
#include "consensus/types.h"

namespace crema::raft::storage {

class GroupLog {
 public:
  virtual ~GroupLog() = default;
  // REQUIRES: entries non-empty and consecutive; front().index <= next_index().
  [[nodiscard]] virtual absl::Status Append(const std::vector<Entry>& entries) = 0;
  [[nodiscard]] virtual absl::Status SetHardState(const HardState& hs) = 0;
  [[nodiscard]] virtual absl::Status Reset(Index index, Term term) = 0;
  [[nodiscard]] virtual absl::Status Sync() = 0;
  [[nodiscard]] virtual absl::Status Compact(Index index) = 0;
  // The index the next appended entry gets (buffered records included).
  virtual Index next_index() const = 0;
};

}  // namespace crema::raft::storage

#endif  // CREMA_CONSENSUS_STORAGE_GROUP_LOG_H_
