// RaftStorage: everything one Raft replica keeps on disk — the WAL (entries + hard state) and
// snapshots — behind one object the driver uses per Ready.
//
// Layout under `prefix` (e.g. "raft/7/"): "snap-<index>" snapshot files (snapshot_store.h), and
// either the group's own "wal-<seq>" segments (Open: wal.h) or nothing more, its entries and hard
// state being records in the node's shared log (OpenShared: shared_log.h, one Sync for all
// groups). The driver sees the same object either way (a GroupLog, group_log.h).
//
// Example (driver):
//   RecoveredState state;
//   auto storage = RaftStorage::Open(env.disk, "raft/7/", {}, &state);   // in a fiber
//   // build the core from state; then per Ready:
//   if (rd.snapshot) storage->ApplySnapshot(*rd.snapshot);   // file already received
//   storage->Append(rd.entries); storage->SetHardState(*rd.hard_state); storage->Sync();
//   // ... send, apply; periodically:
//   storage->SaveSnapshot(meta, state_machine.Checkpoint()); storage->Compact(meta.index - keep);
//
// Recovery contract (Open): returns the synced state as of the crash — the hard state, the latest
// snapshot's metadata (if any) and the log entries after the WAL's compaction point. The entries
// are made consistent with the snapshot: if they do not contain the snapshot's (index, term) and
// reach past it, they are discarded (a snapshot was installed but the crash came before the WAL
// recorded it: the snapshot supersedes the log). hard_state.commit is raised to the snapshot
// index. Corruption anywhere is absl::DataLossError; a torn WAL tail is truncated.
//
// Thread safety: none. All calls from a fiber of the owning node.
#ifndef CREMA_CONSENSUS_STORAGE_RAFT_STORAGE_H_
#define CREMA_CONSENSUS_STORAGE_RAFT_STORAGE_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "consensus/storage/group_log.h"
#include "consensus/storage/shared_log.h"
#include "consensus/storage/snapshot_store.h"
#include "consensus/storage/wal.h"
#include "consensus/types.h"
#include "node/disk.h"

namespace crema::raft::storage {

struct StorageOptions {
  WalOptions wal;
};

struct RecoveredState {
  HardState hard_state;
  std::optional<SnapshotMeta> snapshot;
  std::vector<Entry> entries;  // consecutive; front().index <= snapshot->index + 1 if both exist
  uint64_t torn_bytes_dropped = 0;
};

class RaftStorage {
 public:
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<RaftStorage>> Open(
      Disk* disk, std::string prefix, const StorageOptions& options, RecoveredState* state);
  // The same over the node's shared log, where `group`'s records live (`log` must outlive it).
  // Sync() then syncs every group's buffered records (group commit).
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<RaftStorage>> OpenShared(
      Disk* disk, std::string prefix, SharedLog* log, GroupId group, RecoveredState* state);

  // Buffered until Sync (see wal.h).
  [[nodiscard]] absl::Status Append(const std::vector<Entry>& entries) {
    return log_->Append(entries);
  }
  [[nodiscard]] absl::Status SetHardState(const HardState& hs) { return log_->SetHardState(hs); }
  [[nodiscard]] absl::Status Sync() { return log_->Sync(); }

  // The core installed a snapshot that is already durable in the store (received through
  // StartReceive/Finish, or saved): the log is reset past it. Buffered until Sync.
  // FailedPrecondition if the store's latest snapshot is not `meta`.
  [[nodiscard]] absl::Status ApplySnapshot(const SnapshotMeta& meta);
  // Saves the state machine's checkpoint at meta.index (durable when it returns).
  [[nodiscard]] absl::Status SaveSnapshot(const SnapshotMeta& meta, std::string_view data) {
    return snapshots_.Save(meta, data);
  }
  // Drops WAL segments wholly below `index`. REQUIRES: index <= latest snapshot index + 1.
  [[nodiscard]] absl::Status Compact(Index index);

  SnapshotStore& snapshots() { return snapshots_; }
  const GroupLog& log() const { return *log_; }

 private:
  RaftStorage(Disk* disk, std::string prefix) : snapshots_(disk, std::move(prefix)) {}
  // Reconciles what `log_` recovered with the snapshot store (the recovery contract above).
  absl::Status Init(const WalContents& contents, RecoveredState* state);

  SnapshotStore snapshots_;
  std::unique_ptr<GroupLog> log_;
};

}  // namespace crema::raft::storage

#endif  // CREMA_CONSENSUS_STORAGE_RAFT_STORAGE_H_
