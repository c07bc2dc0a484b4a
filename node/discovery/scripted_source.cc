#include "node/discovery/scripted_source.h"

#include <cassert>
#include <optional>

namespace crema::discovery {

using membership::MemberState;
using membership::MembershipEventKind;

ScriptedMembershipSource::ScriptedMembershipSource(NodeId self, const std::vector<NodeId>& members)
    : self_(self) {
  assert(self != kNoNode);
  for (NodeId id : members) members_[id] = membership::Member{.id = id};
  members_[self] = membership::Member{.id = self};
}

void ScriptedMembershipSource::Set(NodeId id, MemberState state) {
  assert(id != kNoNode);
  auto [it, added] = members_.try_emplace(id, membership::Member{.id = id, .state = state});
  const MemberState before = added ? MemberState::kDead : it->second.state;
  if (!added && before == state) return;
  it->second.state = state;
  ++it->second.incarnation;
  std::optional<MembershipEventKind> kind;
  switch (state) {
    case MemberState::kAlive:
      kind = before == MemberState::kSuspect ? MembershipEventKind::kAliveAgain
                                             : MembershipEventKind::kJoined;
      break;
    case MemberState::kSuspect: kind = MembershipEventKind::kSuspected; break;
    case MemberState::kDead: kind = MembershipEventKind::kDead; break;
    case MemberState::kLeft: kind = MembershipEventKind::kLeft; break;
  }
  if (membership::IsLive(before) != membership::IsLive(state) || added) ++view_version_;
  const membership::MembershipEvent event{.kind = *kind, .member = it->second};
  // Copies of the callbacks: a subscriber may unsubscribe (or subscribe) while being called.
  std::vector<std::shared_ptr<EventCallback>> callbacks;
  for (const auto& [sid, callback] : subscribers_) callbacks.push_back(callback);
  for (const std::shared_ptr<EventCallback>& callback : callbacks) (*callback)(event);
}

absl::Status ScriptedMembershipSource::Start() {
  if (started_) return absl::FailedPreconditionError("already started");
  started_ = true;
  return absl::OkStatus();
}

void ScriptedMembershipSource::Leave() {
  if (left_) return;
  left_ = true;
  Set(self_, MemberState::kLeft);
}

std::vector<membership::Member> ScriptedMembershipSource::Members() const {
  std::vector<membership::Member> out;
  out.reserve(members_.size());
  for (const auto& [id, member] : members_) out.push_back(member);
  return out;
}

bool ScriptedMembershipSource::IsAvailable(NodeId id) const {
  if (id == self_) return !left_;
  auto it = members_.find(id);
  return it != members_.end() && it->second.state == MemberState::kAlive;
}

absl::StatusOr<MembershipSource::SubscriptionId> ScriptedMembershipSource::Subscribe(
    EventCallback callback) {
  const SubscriptionId id = next_subscription_++;
  subscribers_[id] = std::make_shared<EventCallback>(std::move(callback));
  return id;
}

absl::Status ScriptedMembershipSource::UpdateMetadata(membership::Metadata metadata) {
  members_[self_].metadata = std::move(metadata);
  return absl::OkStatus();
}

}  // namespace crema::discovery
