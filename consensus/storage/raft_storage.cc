#include "consensus/storage/raft_storage.h"

#include <algorithm>
#include <cassert>

#include "absl/strings/str_cat.h"

namespace crema::raft::storage {
namespace {

// Makes the recovered entries consistent with the snapshot (see the header's recovery contract).
absl::Status Reconcile(const WalContents& wal, RecoveredState* state) {
  state->hard_state = wal.hard_state;
  state->entries = wal.entries;
  const Index first = wal.base_index + 1;
  if (!state->snapshot) {
    if (wal.base_index != 0) {
      return absl::DataLossError(
          absl::StrCat("the WAL starts at index ", first, " but there is no snapshot"));
    }
    return absl::OkStatus();
  }
  const SnapshotMeta& snap = *state->snapshot;
  state->hard_state.commit = std::max(state->hard_state.commit, snap.index);
  // A snapshot is made durable before the hard state that goes with it (bootstrap, or a snapshot
  // received from a leader of a newer term); a crash in between leaves the hard state's term behind
  // the snapshot's. Raising it is safe: votes are persisted before they are sent, so with a durable
  // term below the snapshot's, this replica never voted in any term from there up — no vote is lost.
  if (state->hard_state.term < snap.term) {
    state->hard_state.term = snap.term;
    state->hard_state.vote = kNoReplica;
  }
  if (state->entries.empty()) return absl::OkStatus();
  if (first > snap.index + 1) {
    return absl::DataLossError(absl::StrCat("the WAL starts at index ", first,
                                            " past the snapshot at ", snap.index));
  }
  const Index last = state->entries.back().index;
  const bool covers = snap.index >= first && snap.index <= last;
  const bool matches = snap.index + 1 == first ||
                       (covers && state->entries[snap.index - first].term == snap.term);
  if (!matches) state->entries.clear();  // the snapshot supersedes this log
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<RaftStorage>> RaftStorage::Open(Disk* disk, std::string prefix,
                                                               const StorageOptions& options,
                                                               RecoveredState* state) {
  *state = RecoveredState();
  std::unique_ptr<RaftStorage> storage(new RaftStorage(disk, prefix));
  if (absl::Status s = storage->snapshots_.Open(); !s.ok()) return s;
  WalContents contents;
  absl::StatusOr<std::unique_ptr<Wal>> wal = Wal::Open(disk, std::move(prefix), options.wal,
                                                       &contents);
  if (!wal.ok()) return wal.status();
  storage->log_ = *std::move(wal);
  if (absl::Status s = storage->Init(contents, state); !s.ok()) return s;
  return storage;
}

absl::StatusOr<std::unique_ptr<RaftStorage>> RaftStorage::OpenShared(Disk* disk,
                                                                     std::string prefix,
                                                                     SharedLog* log, GroupId group,
                                                                     RecoveredState* state) {
  *state = RecoveredState();
  std::unique_ptr<RaftStorage> storage(new RaftStorage(disk, std::move(prefix)));
  if (absl::Status s = storage->snapshots_.Open(); !s.ok()) return s;
  WalContents contents;
  if (absl::Status s = log->Recover(group, &contents); !s.ok()) return s;
  storage->log_ = log->ForGroup(group);
  if (absl::Status s = storage->Init(contents, state); !s.ok()) return s;
  return storage;
}

absl::Status RaftStorage::Init(const WalContents& contents, RecoveredState* state) {
  state->snapshot = snapshots_.latest();
  state->torn_bytes_dropped = contents.torn_bytes_dropped;
  if (absl::Status s = Reconcile(contents, state); !s.ok()) return s;
  // Keep the log's idea of itself in line with what the core will be told.
  const bool reset = state->snapshot && state->entries.empty() &&
                     log_->next_index() != state->snapshot->index + 1;
  if (!reset) return absl::OkStatus();
  if (absl::Status s = log_->Reset(state->snapshot->index, state->snapshot->term); !s.ok()) {
    return s;
  }
  return log_->Sync();
}

absl::Status RaftStorage::ApplySnapshot(const SnapshotMeta& meta) {
  if (!snapshots_.latest() || *snapshots_.latest() != meta) {
    return absl::FailedPreconditionError(
        absl::StrCat("snapshot at ", meta.index, " is not the store's latest"));
  }
  return log_->Reset(meta.index, meta.term);
}

absl::Status RaftStorage::Compact(Index index) {
  assert(index <= (snapshots_.latest() ? snapshots_.latest()->index : 0) + 1);
  return log_->Compact(index);
}

}  // namespace crema::raft::storage
