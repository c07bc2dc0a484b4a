#include "consensus/invariants.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace crema::raft {
namespace {

const Entry* Find(const ReplicaView& r, Index index) {
  if (index <= r.log_offset || index > r.log_offset + r.entries.size()) return nullptr;
  return &r.entries[index - r.log_offset - 1];
}

Index LastIndex(const ReplicaView& r) { return r.log_offset + r.entries.size(); }

Term LastTerm(const ReplicaView& r) {
  return r.entries.empty() ? r.log_offset_term : r.entries.back().term;
}

// Raft §5.4.1: is `a`'s log at least as up to date as `b`'s?
bool AtLeastAsUpToDate(const ReplicaView& a, const ReplicaView& b) {
  return LastTerm(a) > LastTerm(b) ||
         (LastTerm(a) == LastTerm(b) && LastIndex(a) >= LastIndex(b));
}

}  // namespace

bool LeadsDurably(const Raft& raft) {
  return raft.role() == Role::kLeader && raft.durable_term() >= raft.term();
}

ReplicaView ViewOf(const Raft& raft) {
  ReplicaView v;
  v.id = raft.id();
  v.is_leader = LeadsDurably(raft);
  v.term = raft.term();
  v.commit = raft.commit();
  const RaftLog& log = raft.log();
  v.log_offset = log.offset();
  v.log_offset_term = log.TermAt(log.offset()).value_or(0);
  for (Index i = log.first_index(); i <= log.last_index(); ++i) v.entries.push_back(log.At(i));
  return v;
}

absl::Status InvariantChecker::Check(const std::vector<ReplicaView>& replicas) {
  for (const ReplicaView& r : replicas) {
    if (r.is_leader) {
      if (absl::Status st = CheckElectionSafety(r); !st.ok()) return st;
      if (absl::Status st = CheckLeaderAppendOnly(r); !st.ok()) return st;
    }
  }
  for (size_t i = 0; i < replicas.size(); ++i) {
    for (size_t j = i + 1; j < replicas.size(); ++j) {
      if (absl::Status st = CheckLogMatching(replicas[i], replicas[j]); !st.ok()) return st;
    }
  }
  for (const ReplicaView& r : replicas) {
    if (absl::Status st = RecordCommitted(r); !st.ok()) return st;
  }
  for (const ReplicaView& r : replicas) {
    if (r.is_leader) {
      if (absl::Status st = CheckLeaderCompleteness(r); !st.ok()) return st;
    }
  }
  return absl::OkStatus();
}

absl::Status InvariantChecker::CheckElectionSafety(const ReplicaView& r) {
  auto [it, inserted] = leader_of_term_.emplace(r.term, r.id);
  if (!inserted && it->second != r.id) {
    return absl::InternalError(absl::StrCat("election safety: replicas ", it->second, " and ",
                                            r.id, " both lead term ", r.term));
  }
  return absl::OkStatus();
}

absl::Status InvariantChecker::CheckLeaderAppendOnly(const ReplicaView& r) {
  auto it = leader_log_.find(r.term);
  if (it != leader_log_.end()) {
    const ReplicaView& before = it->second;
    for (Index i = std::max(before.log_offset, r.log_offset) + 1; i <= LastIndex(before); ++i) {
      const Entry* now = Find(r, i);
      if (now == nullptr || !(*now == *Find(before, i))) {
        return absl::InternalError(absl::StrCat("leader append-only: leader ", r.id, " of term ",
                                                r.term, " changed or dropped entry ", i));
      }
    }
  }
  leader_log_[r.term] = r;
  return absl::OkStatus();
}

absl::Status InvariantChecker::CheckLogMatching(const ReplicaView& a, const ReplicaView& b) const {
  // Highest index where both hold an entry with the same term; below it all must be equal.
  const Index lo = std::max(a.log_offset, b.log_offset) + 1;
  Index top = std::min(LastIndex(a), LastIndex(b));
  while (top >= lo && Find(a, top)->term != Find(b, top)->term) --top;
  for (Index i = lo; i <= top; ++i) {
    if (!(*Find(a, i) == *Find(b, i))) {
      return absl::InternalError(absl::StrCat("log matching: replicas ", a.id, " and ", b.id,
                                              " agree at ", top, " but differ at ", i));
    }
  }
  return absl::OkStatus();
}

absl::Status InvariantChecker::RecordCommitted(const ReplicaView& r) {
  for (Index i = r.log_offset + 1; i <= std::min(r.commit, LastIndex(r)); ++i) {
    const Entry& e = *Find(r, i);
    auto it = committed_.find(i);  // usually already known: no copy of the entry then
    const bool inserted = it == committed_.end();
    if (inserted) it = committed_.emplace(i, Committed{e, r.term}).first;
    if (!inserted && !(it->second.entry == e)) {
      return absl::InternalError(absl::StrCat("state machine safety: replica ", r.id,
                                              " committed a different entry at index ", i));
    }
    if (!inserted) it->second.seen_at_term = std::min(it->second.seen_at_term, r.term);
  }
  return absl::OkStatus();
}

absl::Status InvariantChecker::CheckLeaderCompleteness(const ReplicaView& r) const {
  // Entries at or below the view's offset are skipped anyway: start after them (windowed views
  // make this most of the map).
  for (auto it = committed_.upper_bound(r.log_offset); it != committed_.end(); ++it) {
    const auto& [index, c] = *it;
    if (c.seen_at_term >= r.term) continue;
    const Entry* e = Find(r, index);
    if (e == nullptr || !(*e == c.entry)) {
      return absl::InternalError(absl::StrCat("leader completeness: leader ", r.id, " of term ",
                                              r.term, " lacks committed entry ", index));
    }
  }
  return absl::OkStatus();
}

absl::Status InvariantChecker::CheckCommittedEntriesElectable(
    const std::vector<ReplicaView>& replicas, const std::vector<ReplicaId>& voters) const {
  const size_t quorum = voters.size() / 2 + 1;
  for (const ReplicaView& x : replicas) {
    // Voters whose logs x's log is at least as up to date as: they would all grant x a vote.
    size_t would_vote = 0;
    for (const ReplicaView& y : replicas) {
      const bool voter = std::find(voters.begin(), voters.end(), y.id) != voters.end();
      if (voter && AtLeastAsUpToDate(x, y)) ++would_vote;
    }
    if (would_vote < quorum) continue;
    // Entries at or below x.log_offset are in x's snapshot: start after them.
    for (auto it = committed_.upper_bound(x.log_offset); it != committed_.end(); ++it) {
      const auto& [index, c] = *it;
      const Entry* e = Find(x, index);
      if (e == nullptr || !(*e == c.entry)) {
        return absl::InternalError(absl::StrCat(
            "leader completeness at risk: replica ", x.id, " lacks committed entry ", index, " (",
            c.entry.term, "/", index, ") but a majority would vote for it"));
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace crema::raft
