#include "consensus/log.h"

#include <algorithm>
#include <cassert>

#include "consensus/message.h"

namespace crema::raft {

RaftLog::RaftLog(const SnapshotMeta& snapshot, std::vector<Entry> entries)
    : offset_(snapshot.index),
      offset_term_(snapshot.term),
      snapshot_(snapshot),
      committed_(snapshot.index),
      applied_(snapshot.index) {
  if (!entries.empty() && entries.front().index <= snapshot.index) {
    // A kept tail before the snapshot: its first entry becomes the offset (its term is known).
    offset_ = entries.front().index;
    offset_term_ = entries.front().term;
    entries.erase(entries.begin());
  }
  entries_.assign(std::make_move_iterator(entries.begin()), std::make_move_iterator(entries.end()));
  stable_ = last_index();
  assert(entries_.empty() || entries_.front().index == offset_ + 1);
}

Term RaftLog::last_term() const { return entries_.empty() ? offset_term_ : entries_.back().term; }

std::optional<Term> RaftLog::TermAt(Index index) const {
  if (index == offset_) return offset_term_;
  if (index < offset_ || index > last_index()) return std::nullopt;
  return entries_[index - offset_ - 1].term;
}

bool RaftLog::MatchTerm(Index index, Term term) const {
  std::optional<Term> t = TermAt(index);
  return t.has_value() && *t == term;
}

bool RaftLog::IsUpToDate(Index index, Term term) const {
  return term > last_term() || (term == last_term() && index >= last_index());
}

const Entry& RaftLog::At(Index index) const {
  assert(index > offset_ && index <= last_index());
  return entries_[index - offset_ - 1];
}

std::vector<Entry> RaftLog::Slice(Index lo, Index hi, uint64_t max_bytes, size_t max_count) const {
  assert(lo > offset_ && hi <= last_index());
  std::vector<Entry> out;
  uint64_t bytes = 0;
  for (Index i = lo; i <= hi; ++i) {
    const Entry& e = At(i);
    if (!out.empty() && (out.size() >= max_count || bytes + EntryBytes(e) > max_bytes)) break;
    bytes += EntryBytes(e);
    out.push_back(e);
  }
  return out;
}

void RaftLog::Append(std::vector<Entry> entries) {
  for (Entry& e : entries) {
    assert(e.index == last_index() + 1);
    assert(e.term >= last_term());
    entries_.push_back(std::move(e));
  }
}

std::optional<Index> RaftLog::MaybeAppend(Index prev_index, Term prev_term,
                                          const std::vector<Entry>& es) {
  if (!MatchTerm(prev_index, prev_term)) return std::nullopt;
  const Index last_new = prev_index + es.size();
  for (const Entry& e : es) {
    if (e.index <= offset_) continue;  // already compacted here, hence committed and equal
    std::optional<Term> existing = TermAt(e.index);
    if (existing.has_value() && *existing == e.term) continue;
    if (existing.has_value()) {
      // Conflict: drop our suffix from e.index on. Committed entries never conflict (Raft §5.3).
      assert(e.index > committed_);
      entries_.resize(e.index - offset_ - 1);
      stable_ = std::min(stable_, e.index - 1);
    }
    assert(e.index == last_index() + 1);
    entries_.push_back(e);
  }
  return last_new;
}

std::pair<Index, Term> RaftLog::FindConflictByTerm(Index index, Term term) const {
  if (index < offset_) return {index, 0};  // compacted here: term unknown
  index = std::min(index, last_index());
  while (index > offset_) {
    Term t = entries_[index - offset_ - 1].term;
    if (t <= term) return {index, t};
    --index;
  }
  return {offset_, offset_term_};
}

void RaftLog::CommitTo(Index index) {
  if (index <= committed_) return;
  assert(index <= last_index());
  committed_ = index;
}

void RaftLog::AppliedTo(Index index) {
  assert(index <= committed_ && index >= applied_);
  applied_ = index;
}

void RaftLog::StableTo(Index index, Term term) {
  // Only if the entry is still the one that was persisted (it may have been replaced since).
  if (index > stable_ && MatchTerm(index, term)) stable_ = index;
}

void RaftLog::Restore(const SnapshotMeta& snap) {
  assert(snap.index > committed_);
  entries_.clear();
  offset_ = snap.index;
  offset_term_ = snap.term;
  snapshot_ = snap;
  pending_snapshot_ = snap;
  committed_ = applied_ = stable_ = snap.index;
}

void RaftLog::Compact(const SnapshotMeta& snap, Index compact_to) {
  assert(snap.index <= applied_ && compact_to <= snap.index);
  if (snap.index > snapshot_.index) snapshot_ = snap;
  if (compact_to <= offset_) return;
  offset_term_ = *TermAt(compact_to);
  entries_.erase(entries_.begin(), entries_.begin() + (compact_to - offset_));
  offset_ = compact_to;
  stable_ = std::max(stable_, offset_);
}

std::vector<Entry> RaftLog::UnstableEntries() const {
  std::vector<Entry> out;
  for (Index i = std::max(stable_, offset_) + 1; i <= last_index(); ++i) out.push_back(At(i));
  return out;
}

bool RaftLog::HasNextCommittedEntries() const {
  return committed_ > applied_ && pending_snapshot_ == std::nullopt;
}

std::vector<Entry> RaftLog::NextCommittedEntries(uint64_t max_bytes) const {
  if (!HasNextCommittedEntries()) return {};
  return Slice(applied_ + 1, committed_, max_bytes, SIZE_MAX);
}

}  // namespace crema::raft
