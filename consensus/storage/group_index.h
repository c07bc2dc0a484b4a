// GroupIndex: what the shared log (shared_log.h) remembers of one group in memory — its hard
// state, where its log starts, and WHERE its live entries are on disk (not the entries: the core
// holds those; recovery and rewrites read them back). Pure: no I/O.
//
// Live entries are kept as runs: each run is the live part [first, last] of one entries record
// (a record may be partly dead after a suffix replacement or a compaction). Runs are consecutive
// by index and ascending by segment: later records are written later, and a rewrite writes its
// copy records (all into one segment) last-range first, so a copy only ever replaces the tail of
// the runs or sits right below an earlier copy of the same rewrite.
//
// The same mutations serve recovery (replaying records in log order) and live writes, so the two
// can never disagree:
//   ApplyEntries  Raft's rule: entries from `first` replace the stored suffix from `first`.
//   ApplyCopy     a rewrite's copy of live entries (shared_log.h, "rewrite"): never truncates;
//                 it takes over the location of the entries it covers, which must overlap or
//                 touch the stored log (a rewrite writes its copy records last-range first).
//   ApplyReset    the log is empty after `index` (a snapshot was installed).
//   Compact       entries below `index` are dead (a snapshot covers them); no record is written.
// During recovery a group may first be seen in the middle of its history (older segments were
// purged): its first entries record then sets where its log starts ("base not known" until then).
//
// pin(): the oldest segment holding a record this group still needs (its latest hard state, its
// first live entries, or the reset that set an empty log's start); kPendingSeq if none on disk.
// A segment older than every group's pin can be deleted.
//
// Thread safety: none (values).
#ifndef CREMA_CONSENSUS_STORAGE_GROUP_INDEX_H_
#define CREMA_CONSENSUS_STORAGE_GROUP_INDEX_H_

#include <cstdint>
#include <deque>
#include <limits>

#include "absl/status/status.h"
#include "consensus/types.h"

namespace crema::raft::storage {

// The segment of a record still in the write buffer (newer than every segment on disk).
inline constexpr uint64_t kPendingSeq = std::numeric_limits<uint64_t>::max();

struct EntryRun {
  Index first = 0;      // live entries of the record: [first, last]
  Index last = 0;
  uint64_t seq = kPendingSeq;  // its segment
  uint64_t offset = 0;  // of the record in its segment (pending: in the write buffer)
  uint64_t size = 0;    // of the whole record, framing included
};

class GroupIndex {
 public:
  // `base_known`: false while replaying (the group may be seen mid-history), true for a group
  // created by a live write (its log starts empty at index 1).
  explicit GroupIndex(bool base_known) : base_known_(base_known) {}

  // REQUIRES: first <= last; `run` describes the record (its first/last are overwritten).
  // DataLoss if `first` leaves a gap after the stored log.
  [[nodiscard]] absl::Status ApplyEntries(Index first, Index last, EntryRun run);
  // DataLoss if the copy neither overlaps nor touches the stored log (never written so).
  [[nodiscard]] absl::Status ApplyCopy(Index first, Index last, EntryRun run);
  void ApplyReset(Index index, uint64_t seq);
  void ApplyHardState(const HardState& hs, uint64_t seq);
  void Compact(Index index);
  // Records in the write buffer were written at `base_offset` of segment `seq`.
  void ResolvePending(uint64_t seq, uint64_t base_offset);

  Index next_index() const { return runs_.empty() ? base_ + 1 : runs_.back().last + 1; }
  // Entries start at first_index() (nothing before it is stored).
  Index first_index() const { return runs_.empty() ? base_ + 1 : runs_.front().first; }
  const HardState& hard_state() const { return hard_state_; }
  bool has_hard_state() const { return hard_state_seq_ != 0; }
  const std::deque<EntryRun>& runs() const { return runs_; }
  // Whether a reset record (not a compaction) set where the empty log starts.
  bool base_from_reset() const { return base_seq_ != 0; }
  uint64_t pin() const;
  // Nothing of this group is stored (no hard state, no entries, no reset).
  bool empty() const { return !has_hard_state() && runs_.empty() && base_seq_ == 0; }
  // Bumped by every mutation (a rewrite checks nothing changed while it read).
  uint64_t version() const { return version_; }

 private:
  HardState hard_state_;
  uint64_t hard_state_seq_ = 0;  // 0: no hard state record
  Index base_ = 0;               // with no runs: the log is empty after base_
  bool base_known_;
  uint64_t base_seq_ = 0;        // the reset record that set base_ (0: none / compaction)
  std::deque<EntryRun> runs_;
  uint64_t version_ = 0;
};

}  // namespace crema::raft::storage

#endif  // CREMA_CONSENSUS_STORAGE_GROUP_INDEX_H_
