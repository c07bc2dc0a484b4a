// A reusable checker of the five Raft safety invariants (Raft paper, Figure 3) over a cluster.
//
// The caller (a scenario test, a property test, the cluster simulator) describes every replica
// of one group after each step with `ReplicaView` and calls `InvariantChecker::Check`. The
// checker is stateful: it remembers leaders per term, what each leader's log looked like, and
// every entry ever seen committed, so it can check properties that span time.
//
//   1. Election safety: at most one leader per term.
//   2. Leader append-only: a leader never overwrites or deletes entries of its own log.
//   3. Log matching: if two logs have an entry with the same index and term, the logs are
//      identical in all entries up through that index (checked over the entries both still hold).
//   4. Leader completeness: an entry committed when the cluster was at term t is in the log of
//      every leader of a term > t (unless compacted away there).
//   5. State machine safety: no two replicas ever commit different entries at one index.
//
// With a fixed voter set, `CheckCommittedEntriesElectable` adds a forward-looking check of 4:
// no replica that lacks a committed entry may be at least as up to date (Raft §5.4.1) as a
// majority of the voters, because it could then win an election and overwrite that entry. Raft
// guarantees this (the Leader Completeness proof, §5.4.3) only because a leader commits by
// counting replicas of entries of its own term; it catches a violation of the commit rule
// (Figure 8, §5.4.2) as soon as the bad commit happens instead of waiting for the overwrite.
//
// Crashes are fine: a restarted replica simply reports its (durable) state again. Entries that a
// replica has compacted are not checked on that replica.
//
// Bounds: remembers every committed entry of the run (memory grows with the run); meant for
// tests and simulation, not production.
#ifndef CREMA_CONSENSUS_INVARIANTS_H_
#define CREMA_CONSENSUS_INVARIANTS_H_

#include <vector>

#include "absl/container/btree_map.h"
#include "absl/status/status.h"
#include "consensus/raft.h"
#include "consensus/types.h"

namespace crema::raft {

struct ReplicaView {
  ReplicaId id = kNoReplica;
  // A leader whose term is durable (Raft::durable_term): a term that exists only in memory has
  // reached no one, and a crash before its Sync leaves no trace of it; election safety and the
  // leader's append-only log are about leaderships that can have been seen.
  bool is_leader = false;
  Term term = 0;
  Index commit = 0;
  Index log_offset = 0;        // entries <= log_offset are compacted
  Term log_offset_term = 0;    // term of the entry at log_offset (for an empty `entries`)
  std::vector<Entry> entries;  // consecutive from log_offset + 1
};

// Whether `raft` leads with a durable term (ReplicaView::is_leader; every checker's view uses it).
bool LeadsDurably(const Raft& raft);

// The view of a live core.
ReplicaView ViewOf(const Raft& raft);

class InvariantChecker {
 public:
  // Returns Internal with a description of the first violation found.
  [[nodiscard]] absl::Status Check(const std::vector<ReplicaView>& replicas);
  // See above. REQUIRES: `voters` was the voter set for the whole run (no membership change),
  // and Check() ran on the same views first (it records what is committed).
  [[nodiscard]] absl::Status CheckCommittedEntriesElectable(
      const std::vector<ReplicaView>& replicas, const std::vector<ReplicaId>& voters) const;

 private:
  absl::Status CheckElectionSafety(const ReplicaView& r);
  absl::Status CheckLeaderAppendOnly(const ReplicaView& r);
  absl::Status CheckLogMatching(const ReplicaView& a, const ReplicaView& b) const;
  absl::Status RecordCommitted(const ReplicaView& r);
  absl::Status CheckLeaderCompleteness(const ReplicaView& r) const;

  struct Committed {
    Entry entry;
    Term seen_at_term;  // the reporting replica's term: the entry was committed at <= this term
  };
  absl::btree_map<Term, ReplicaId> leader_of_term_;
  absl::btree_map<Term, ReplicaView> leader_log_;  // last view of the leader of each term
  absl::btree_map<Index, Committed> committed_;
};

}  // namespace crema::raft

#endif  // CREMA_CONSENSUS_INVARIANTS_H_
