#include "consensus/storage/group_index.h"

#include <algorithm>
#include <cassert>

#include "absl/strings/str_cat.h"

namespace crema::raft::storage {

absl::Status GroupIndex::ApplyEntries(Index first, Index last, EntryRun run) {
  ++version_;
  assert(first >= 1 && first <= last);
  if (!base_known_ && runs_.empty()) {
    base_ = first - 1;  // first seen mid-history: its log starts here
    base_known_ = true;
  }
  if (first > next_index()) {
    return absl::DataLossError(
        absl::StrCat("entries from ", first, " leave a gap after ", next_index() - 1));
  }
  if (first <= first_index()) {
    runs_.clear();
    base_ = first - 1;
    base_seq_ = 0;
  } else {
    while (!runs_.empty() && runs_.back().first >= first) runs_.pop_back();
    if (!runs_.empty() && runs_.back().last >= first) runs_.back().last = first - 1;
  }
  run.first = first;
  run.last = last;
  runs_.push_back(run);
  return absl::OkStatus();
}

absl::Status GroupIndex::ApplyCopy(Index first, Index last, EntryRun run) {
  ++version_;
  assert(first >= 1 && first <= last);
  run.first = first;
  run.last = last;
  if (runs_.empty()) {
    base_ = first - 1;
    base_known_ = true;
    base_seq_ = 0;
    runs_.push_back(run);
    return absl::OkStatus();
  }
  const Index stored_first = runs_.front().first;
  const Index stored_last = runs_.back().last;
  if (first > stored_last + 1 || last + 1 < stored_first) {
    return absl::DataLossError(absl::StrCat("copied entries [", first, ", ", last,
                                            "] leave a gap to the log [", stored_first, ", ",
                                            stored_last, "]"));
  }
  // The copy takes over [first, last]; runs outside it keep their locations (split if needed).
  std::deque<EntryRun> out;
  for (const EntryRun& r : runs_) {
    if (r.last < first || r.first > last) {
      out.push_back(r);
      continue;
    }
    if (r.first < first) {
      EntryRun before = r;
      before.last = first - 1;
      out.push_back(before);
    }
    if (r.last > last) {
      EntryRun after = r;
      after.first = last + 1;
      out.push_back(after);
    }
  }
  auto at = std::find_if(out.begin(), out.end(), [&](const EntryRun& r) { return r.first > last; });
  out.insert(at, run);
  runs_ = std::move(out);
  assert(std::is_sorted(runs_.begin(), runs_.end(),
                        [](const EntryRun& a, const EntryRun& b) { return a.seq < b.seq; }));
  return absl::OkStatus();
}

void GroupIndex::ApplyReset(Index index, uint64_t seq) {
  ++version_;
  runs_.clear();
  base_ = index;
  base_known_ = true;
  base_seq_ = seq;
}

void GroupIndex::ApplyHardState(const HardState& hs, uint64_t seq) {
  ++version_;
  hard_state_ = hs;
  hard_state_seq_ = seq;
}

void GroupIndex::Compact(Index index) {
  ++version_;
  const Index next = next_index();
  while (!runs_.empty() && runs_.front().last < index) runs_.pop_front();
  if (!runs_.empty()) {
    runs_.front().first = std::max(runs_.front().first, index);
    return;
  }
  // Everything compacted: the log stays empty after min(index, next) - 1, known from no record.
  base_ = std::max(base_, std::min(index, next) - 1);
  base_seq_ = 0;
}

void GroupIndex::ResolvePending(uint64_t seq, uint64_t base_offset) {
  ++version_;
  assert(seq != kPendingSeq);
  // Runs ascend by segment and a pending run's segment (kPendingSeq) is the largest, so the
  // pending runs are a suffix: walk back only over them. (Walking every run — one per record
  // since the last compaction, thousands per busy group — was ~38% of crema_server's CPU under
  // pipelined SETs: perf, docs/server.md.)
  auto run = runs_.rbegin();
  for (; run != runs_.rend() && run->seq == kPendingSeq; ++run) {
    run->seq = seq;
    run->offset += base_offset;
  }
  assert(run == runs_.rend() || run->seq <= seq);  // ascending: nothing older is pending
  if (hard_state_seq_ == kPendingSeq) hard_state_seq_ = seq;
  if (base_seq_ == kPendingSeq) base_seq_ = seq;
}

uint64_t GroupIndex::pin() const {
  uint64_t pin = kPendingSeq;
  if (hard_state_seq_ != 0) pin = std::min(pin, hard_state_seq_);
  if (!runs_.empty()) {
    pin = std::min(pin, runs_.front().seq);
  } else if (base_seq_ != 0) {
    pin = std::min(pin, base_seq_);
  }
  return pin;
}

}  // namespace crema::raft::storage
