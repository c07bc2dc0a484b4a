// Membership changes: one voter or learner at a time.
//
// Crema uses single-step membership changes (Ongaro's thesis §4.1), not joint consensus:
//   * A change adds a voter, adds a learner, promotes a learner (= add voter for an existing
//     learner), demotes a voter to learner, or removes a replica. Each changes the voter set by at
//     most one member, so any majority of the old set and any majority of the new set intersect.
//   * At most one configuration change is uncommitted/unapplied at a time: the leader refuses a new
//     one while the previous one is not yet applied, and refuses any until it has committed an
//     entry of its own term (this closes the single-step bug described on raft-dev in 2015).
//   * A change takes effect on a replica when the replica *applies* the entry (the core does this
//     itself in `Raft::Advance` after the entry was handed out in `Ready::committed_entries`).
//   * Adding a voter from scratch is allowed but slow and risky for availability; prefer adding
//     a learner, letting it catch up, then promoting it (the leader refuses to promote a learner
//     whose log is behind the commit index).
//
// The change travels in an `Entry` of type `kConfChange`; its `data` is `EncodeConfChange(...)`.
#ifndef CREMA_CONSENSUS_CONF_CHANGE_H_
#define CREMA_CONSENSUS_CONF_CHANGE_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "consensus/types.h"

namespace crema::raft {

enum class ConfChangeType : uint8_t {
  kAddVoter = 1,    // also promotes a learner
  kAddLearner = 2,  // also demotes a voter
  kRemove = 3,
};

struct ConfChange {
  ConfChangeType type = ConfChangeType::kAddVoter;
  ReplicaId replica = kNoReplica;
  friend bool operator==(const ConfChange&, const ConfChange&) = default;
};

// Largest number of replicas (voters + learners) in one group.
inline constexpr size_t kMaxReplicasPerGroup = 64;

std::string EncodeConfChange(const ConfChange& change);
// Never crashes on garbage; returns InvalidArgument.
[[nodiscard]] absl::StatusOr<ConfChange> DecodeConfChange(std::string_view data);

// `conf` after applying `change`. Returns FailedPrecondition if the change is a no-op (e.g.
// removing a non-member), would leave no voter, or exceeds kMaxReplicasPerGroup.
[[nodiscard]] absl::StatusOr<ConfState> ApplyConfChange(const ConfState& conf,
                                                        const ConfChange& change);

// True if `change` removes `id` or demotes it to a learner.
inline bool RemovesOrDemotes(const ConfChange& change, ReplicaId id) {
  return change.replica == id &&
         (change.type == ConfChangeType::kRemove || change.type == ConfChangeType::kAddLearner);
}

bool IsVoter(const ConfState& conf, ReplicaId id);
bool IsLearner(const ConfState& conf, ReplicaId id);
std::string FormatConfState(const ConfState& conf);  // "voters=(1,2,3) learners=(4)"
std::string FormatConfChange(const ConfChange& change);  // "add-voter 4"

}  // namespace crema::raft

#endif  // CREMA_CONSENSUS_CONF_CHANGE_H_
