// RaftLog: the core's in-memory view of one replica's log.
//
// Layout (indexes):
//
//   ... compacted ... | offset | first_index() ....................... last_index()
//                                 [---- stable (persisted) ----][--- unstable ---]
//
//   * `offset` / `offset_term` describe the entry just before the first kept entry (after a
//     compaction or snapshot install); its term is known so appends right after it can be checked.
//   * `snapshot()` is the latest state-machine snapshot, with snapshot().index >= offset (a
//     compaction may keep a tail of entries before the snapshot).
//   * Entries with index > stable_index() have not been persisted yet; they go out in the next
//     Ready. A truncation below stable_index() lowers it, so the rewrite is persisted again.
//   * An installed-but-unpersisted snapshot is `pending_snapshot()`.
//
// Invariants: offset <= applied <= committed <= last_index; entries are consecutive; terms never
// decrease along the log; snapshot.index <= committed.
//
// Thread safety: none (owned by one Raft core).
#ifndef CREMA_CONSENSUS_LOG_H_
#define CREMA_CONSENSUS_LOG_H_

#include <deque>
#include <optional>
#include <vector>

#include "consensus/types.h"

namespace crema::raft {

class RaftLog {
 public:
  RaftLog() = default;
  // REQUIRES: `entries` consecutive, front().index - 1 <= snapshot.index <= back().index or
  // front().index == snapshot.index + 1, and the term at snapshot.index (if present) matches.
  // Raft::Create validates this before calling.
  RaftLog(const SnapshotMeta& snapshot, std::vector<Entry> entries);

  Index first_index() const { return offset_ + 1; }
  Index last_index() const { return offset_ + entries_.size(); }
  Term last_term() const;
  Index offset() const { return offset_; }
  Index committed() const { return committed_; }
  Index applied() const { return applied_; }
  Index stable_index() const { return stable_; }
  const SnapshotMeta& snapshot() const { return snapshot_; }
  const std::optional<SnapshotMeta>& pending_snapshot() const { return pending_snapshot_; }

  // Term of the entry at `index`; nullopt if compacted away (< offset) or beyond the last entry.
  std::optional<Term> TermAt(Index index) const;
  bool MatchTerm(Index index, Term term) const;
  // Raft §5.4.1: is (last_index, last_term) at least as up to date as this log?
  bool IsUpToDate(Index last_index, Term last_term) const;
  // REQUIRES: first_index() <= index <= last_index().
  const Entry& At(Index index) const;

  // Entries [lo, hi] bounded by max_bytes/max_count (at least one entry if lo <= hi).
  // REQUIRES: first_index() <= lo, hi <= last_index().
  std::vector<Entry> Slice(Index lo, Index hi, uint64_t max_bytes, size_t max_count) const;

  // Leader: appends at the end. REQUIRES: entries consecutive from last_index() + 1.
  void Append(std::vector<Entry> entries);
  // Follower: the MsgApp rule. If (prev_index, prev_term) matches, truncates any conflicting
  // suffix, appends the new entries, and returns the last index the message covers; otherwise
  // nullopt. Never truncates committed entries (asserts).
  std::optional<Index> MaybeAppend(Index prev_index, Term prev_term, const std::vector<Entry>& es);
  // Fast backtracking: the largest index <= index whose term <= term (and its term).
  // Returns (offset, offset_term) if none is known, and (index, 0) if index is compacted.
  std::pair<Index, Term> FindConflictByTerm(Index index, Term term) const;

  // REQUIRES: committed() <= index <= last_index() or it is a no-op (index <= committed()).
  void CommitTo(Index index);
  void AppliedTo(Index index);
  void StableTo(Index index, Term term);  // entries up to `index` (with that term) persisted
  void SnapshotStable() { pending_snapshot_.reset(); }

  // Follower installs a snapshot: the whole log is replaced (committed = applied = snap.index).
  void Restore(const SnapshotMeta& snap);
  // Records `snap` as the latest snapshot and drops entries up to compact_to (<= snap.index).
  void Compact(const SnapshotMeta& snap, Index compact_to);

  // Entries after stable_index(), and committed-but-unapplied entries (up to max_bytes).
  std::vector<Entry> UnstableEntries() const;
  std::vector<Entry> NextCommittedEntries(uint64_t max_bytes) const;
  bool HasNextCommittedEntries() const;

 private:
  Index offset_ = 0;
  Term offset_term_ = 0;
  std::deque<Entry> entries_;
  SnapshotMeta snapshot_;
  std::optional<SnapshotMeta> pending_snapshot_;
  Index committed_ = 0;
  Index applied_ = 0;
  Index stable_ = 0;
};

}  // namespace crema::raft

#endif  // CREMA_CONSENSUS_LOG_H_
