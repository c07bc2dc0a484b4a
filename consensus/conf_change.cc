#include "consensus/conf_change.h"

#include <algorithm>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "consensus/wire.h"

namespace crema::raft {
namespace {

bool Contains(const std::vector<ReplicaId>& ids, ReplicaId id) {
  return std::binary_search(ids.begin(), ids.end(), id);
}

void Insert(std::vector<ReplicaId>& ids, ReplicaId id) {
  ids.insert(std::lower_bound(ids.begin(), ids.end(), id), id);
}

void Erase(std::vector<ReplicaId>& ids, ReplicaId id) {
  ids.erase(std::remove(ids.begin(), ids.end(), id), ids.end());
}

}  // namespace

std::string EncodeConfChange(const ConfChange& change) {
  WireWriter w;
  w.PutU8(static_cast<uint8_t>(change.type));
  w.PutVarint(change.replica);
  return std::move(w).Finish();
}

absl::StatusOr<ConfChange> DecodeConfChange(std::string_view data) {
  WireReader r(data);
  uint8_t type;
  uint64_t replica;
  if (!r.GetU8(&type) || type < 1 || type > 3 || !r.GetVarint(&replica, UINT32_MAX) ||
      replica == kNoReplica || !r.done()) {
    return absl::InvalidArgumentError("bad conf change encoding");
  }
  return ConfChange{static_cast<ConfChangeType>(type), static_cast<ReplicaId>(replica)};
}

bool IsVoter(const ConfState& conf, ReplicaId id) { return Contains(conf.voters, id); }
bool IsLearner(const ConfState& conf, ReplicaId id) { return Contains(conf.learners, id); }

absl::StatusOr<ConfState> ApplyConfChange(const ConfState& conf, const ConfChange& change) {
  if (!conf.voters_outgoing.empty()) {
    return absl::FailedPreconditionError("joint configurations are not supported");
  }
  if (change.replica == kNoReplica) return absl::InvalidArgumentError("conf change: no replica");
  const ReplicaId id = change.replica;
  ConfState next = conf;
  switch (change.type) {
    case ConfChangeType::kAddVoter:
      if (IsVoter(conf, id)) return absl::FailedPreconditionError("already a voter");
      Erase(next.learners, id);
      Insert(next.voters, id);
      break;
    case ConfChangeType::kAddLearner:
      if (IsLearner(conf, id)) return absl::FailedPreconditionError("already a learner");
      Erase(next.voters, id);
      Insert(next.learners, id);
      break;
    case ConfChangeType::kRemove:
      if (!IsVoter(conf, id) && !IsLearner(conf, id)) {
        return absl::FailedPreconditionError("not a member");
      }
      Erase(next.voters, id);
      Erase(next.learners, id);
      break;
  }
  if (next.voters.empty()) return absl::FailedPreconditionError("would leave no voter");
  if (next.voters.size() + next.learners.size() > kMaxReplicasPerGroup) {
    return absl::FailedPreconditionError("too many replicas");
  }
  return next;
}

std::string FormatConfState(const ConfState& conf) {
  std::string s = absl::StrCat("voters=(", absl::StrJoin(conf.voters, ","), ")");
  if (!conf.learners.empty()) {
    absl::StrAppend(&s, " learners=(", absl::StrJoin(conf.learners, ","), ")");
  }
  return s;
}

std::string FormatConfChange(const ConfChange& change) {
  switch (change.type) {
    case ConfChangeType::kAddVoter: return absl::StrCat("add-voter ", change.replica);
    case ConfChangeType::kAddLearner: return absl::StrCat("add-learner ", change.replica);
    case ConfChangeType::kRemove: return absl::StrCat("remove ", change.replica);
  }
  return "unknown";
}

}  // namespace crema::raft
