#include "consensus/progress.h"

#include <algorithm>
#include <cassert>

#include "absl/strings/str_cat.h"

namespace crema::raft {

void Inflights::Add(Index last_index, uint64_t bytes) {
  assert(!Full());
  assert(items_.empty() || items_.back().last_index < last_index);
  items_.push_back({last_index, bytes});
  bytes_ += bytes;
}

void Inflights::FreeUpTo(Index index) {
  while (!items_.empty() && items_.front().last_index <= index) {
    bytes_ -= items_.front().bytes;
    items_.pop_front();
  }
}

void Inflights::FreeFirst() {
  if (items_.empty()) return;
  bytes_ -= items_.front().bytes;
  items_.pop_front();
}

void Inflights::Reset() {
  items_.clear();
  bytes_ = 0;
}

const char* ProgressStateName(ProgressState s) {
  switch (s) {
    case ProgressState::kProbe: return "probe";
    case ProgressState::kReplicate: return "replicate";
    case ProgressState::kSnapshot: return "snapshot";
  }
  return "?";
}

void Progress::BecomeProbe() {
  // After a snapshot, resume right after it; otherwise right after what we know matches.
  if (state == ProgressState::kSnapshot) {
    next = std::max(match, pending_snapshot) + 1;
  } else {
    next = match + 1;
  }
  state = ProgressState::kProbe;
  probe_sent = false;
  pending_snapshot = 0;
  inflights.Reset();
}

void Progress::BecomeReplicate() {
  state = ProgressState::kReplicate;
  next = match + 1;
  probe_sent = false;
  pending_snapshot = 0;
  inflights.Reset();
}

void Progress::BecomeSnapshot(Index snapshot_index) {
  state = ProgressState::kSnapshot;
  pending_snapshot = snapshot_index;
  probe_sent = false;
  inflights.Reset();
}

bool Progress::MaybeUpdate(Index index) {
  bool updated = false;
  if (index > match) {
    match = index;
    updated = true;
    probe_sent = false;  // the probe was answered
  }
  next = std::max(next, index + 1);
  return updated;
}

bool Progress::MaybeDecrTo(Index rejected, Index hint) {
  if (state == ProgressState::kReplicate) {
    // Stale if it rejects something we already know matches.
    if (rejected <= match) return false;
    next = std::max(match + 1, std::min(rejected, hint + 1));
    return true;
  }
  // Probe: only the answer to the outstanding probe (index next - 1) counts, and never one for
  // an index the follower already matched: it would leave `next` where it is and only make us
  // resend at once — and every duplicate of such a reject another resend, a storm that grows
  // with each round (a follower that lost entries it had acknowledged answers so forever).
  if (next == 0 || next - 1 != rejected || rejected <= match) return false;
  next = std::max(std::min(rejected, hint + 1), match + 1);
  probe_sent = false;
  return true;
}

bool Progress::IsPaused() const {
  switch (state) {
    case ProgressState::kProbe: return probe_sent;
    case ProgressState::kReplicate: return inflights.Full();
    case ProgressState::kSnapshot: return true;
  }
  return true;
}

std::string Progress::DebugString() const {
  std::string s = absl::StrCat(ProgressStateName(state), " match=", match, " next=", next);
  if (is_learner) absl::StrAppend(&s, " learner");
  if (state == ProgressState::kSnapshot) absl::StrAppend(&s, " pending_snap=", pending_snapshot);
  if (inflights.count() > 0) absl::StrAppend(&s, " inflight=", inflights.count());
  if (probe_sent) absl::StrAppend(&s, " paused");
  if (reported_down) absl::StrAppend(&s, " down");
  return s;
}

}  // namespace crema::raft
