// Swim: the member table and SWIM's incarnation rules (see swim.h for the rules in one place).
#include <algorithm>
#include <cassert>
#include <utility>

#include "node/membership/swim.h"

namespace crema::membership {

// ---- Views --------------------------------------------------------------------------------------

Swim::Record* Swim::FindRecord(NodeId id) {
  auto it = members_.find(id);
  return it == members_.end() ? nullptr : &it->second;
}

const Member* Swim::Find(NodeId id) const {
  if (id == self_.id) return &self_;
  auto it = members_.find(id);
  return it == members_.end() ? nullptr : &it->second.member;
}

std::vector<Member> Swim::Members() const {
  std::vector<Member> members;
  members.reserve(members_.size() + 1);
  members.push_back(self_);
  for (const auto& [id, record] : members_) members.push_back(record.member);
  return members;
}

std::vector<NodeId> Swim::LiveMemberIds() const {
  std::vector<NodeId> ids = live_ids_;
  if (!leaving_) ids.insert(std::upper_bound(ids.begin(), ids.end(), self_.id), self_.id);
  return ids;
}

double Swim::Phi(NodeId id, absl::Time now) const {
  auto it = members_.find(id);
  return it == members_.end() ? 0.0 : it->second.phi.Phi(now);
}

absl::Time Swim::SuspicionDeadline(const Record& record) const {
  assert(record.member.state == MemberState::kSuspect);
  return record.state_since +
         SuspicionTimeout(record.suspicion_min, record.suspicion_max,
                          record.expected_confirmations, static_cast<int>(record.confirmers.size()));
}

std::optional<absl::Duration> Swim::SuspicionTimeoutOf(NodeId id) const {
  auto it = members_.find(id);
  if (it == members_.end() || it->second.member.state != MemberState::kSuspect) return std::nullopt;
  return SuspicionDeadline(it->second) - it->second.state_since;
}

// ---- Updates ------------------------------------------------------------------------------------

void Swim::ApplyUpdate(const MemberUpdate& update, absl::Time now) {
  switch (update.member.state) {
    case MemberState::kAlive:
      ApplyAlive(update, now);
      break;
    case MemberState::kSuspect:
      ApplySuspect(update, now);
      break;
    case MemberState::kDead:
      ApplyGone(update, now);
      break;
    case MemberState::kLeft:
      // Only a member can announce its own departure.
      if (update.accuser == update.member.id) ApplyGone(update, now);
      break;
  }
}

void Swim::MergeRemoteState(const Message& message, absl::Time now) {
  for (const MemberUpdate& update : message.updates) {
    if (update.member.state == MemberState::kDead) {
      // memberlist's rule: a remote full state saying "dead" only makes us suspect the member, so
      // a member that is in fact alive (e.g. across a healed partition) gets to refute.
      MemberUpdate suspect = update;
      suspect.member.state = MemberState::kSuspect;
      suspect.accuser = message.from;
      ApplySuspect(suspect, now);
    } else if (update.member.state == MemberState::kSuspect) {
      // A full state shows what the sender believes, not that its own probe failed: it starts a
      // suspicion here, but is no independent confirmation of one we already hold (Lifeguard
      // counts only independent suspicions towards shortening the timeout).
      const Record* held = FindRecord(update.member.id);
      if (held != nullptr && held->member.state == MemberState::kSuspect &&
          held->member.incarnation == update.member.incarnation) {
        continue;
      }
      MemberUpdate suspect = update;
      suspect.accuser = message.from;
      ApplySuspect(suspect, now);
    } else {
      ApplyUpdate(update, now);
    }
  }
}

void Swim::ApplyAlive(const MemberUpdate& update, absl::Time now) {
  const Member& claim = update.member;
  if (claim.id == self_.id) {
    // Someone holds a newer incarnation of us than we do: we restarted and forgot. Move past it.
    if (!leaving_ && claim.incarnation > self_.incarnation) Refute(claim.incarnation, now);
    return;
  }
  Record* record = FindRecord(claim.id);
  if (record == nullptr) {
    if (members_.size() >= kMaxMembers) {
      ++stats_.dropped;
      return;
    }
    Record fresh{.member = claim, .state_since = now, .phi = PhiAccrualDetector(config_.phi)};
    fresh.member.state = MemberState::kAlive;
    members_.emplace(claim.id, std::move(fresh));
    MemberTimersChanged();
    AddLiveId(claim.id);
    AddToProbeOrder(claim.id);
    Emit(MembershipEventKind::kJoined, members_.at(claim.id).member);
    Gossip(claim, claim.id);
    return;
  }
  if (claim.incarnation <= record->member.incarnation) return;
  const MemberState old_state = record->member.state;
  const bool data_changed =
      record->member.address != claim.address || record->member.metadata != claim.metadata;
  record->member.address = claim.address;
  record->member.metadata = claim.metadata;
  record->member.incarnation = claim.incarnation;
  SetState(*record, MemberState::kAlive, now);
  if (!IsLive(old_state)) {
    Emit(MembershipEventKind::kJoined, record->member);
  } else if (old_state == MemberState::kSuspect) {
    Emit(MembershipEventKind::kAliveAgain, record->member);
    if (data_changed) Emit(MembershipEventKind::kUpdated, record->member);
  } else if (data_changed) {
    Emit(MembershipEventKind::kUpdated, record->member);
  }
  Gossip(record->member, claim.id);
}

void Swim::ApplySuspect(const MemberUpdate& update, absl::Time now) {
  const Member& claim = update.member;
  if (claim.id == self_.id) {
    // Lifeguard: being suspected (afresh) hints that we are the slow one.
    if (OnClaimAboutSelf(claim.incarnation, now)) health_.Apply(1);
    return;
  }
  Record* record = FindRecord(claim.id);
  if (record == nullptr || !IsLive(record->member.state)) return;
  if (claim.incarnation < record->member.incarnation) return;
  if (record->member.state == MemberState::kSuspect &&
      claim.incarnation == record->member.incarnation) {
    // Same suspicion: an independent confirmation shortens the timeout (Lifeguard). Any accuser
    // other than the first counts once, ourselves included (our own probe failed too). Capped at
    // the number expected, beyond which the timeout is already at its minimum.
    const NodeId accuser = update.accuser;
    if (accuser == kNoNode || accuser == record->first_accuser ||
        record->confirmers.size() >= static_cast<size_t>(record->expected_confirmations)) {
      return;
    }
    if (record->confirmers.insert(accuser).second) {
      MemberTimersChanged();  // the deadline moved earlier
      Gossip(record->member, accuser);
    }
    return;
  }
  const bool was_alive = record->member.state == MemberState::kAlive;
  record->member.incarnation = claim.incarnation;
  SetState(*record, MemberState::kSuspect, now);
  StartSuspicion(*record, update.accuser, now);
  ++stats_.suspicions_started;
  if (was_alive) Emit(MembershipEventKind::kSuspected, record->member);
  Gossip(record->member, update.accuser);
}

void Swim::ApplyGone(const MemberUpdate& update, absl::Time now) {
  const Member& claim = update.member;
  assert(claim.state == MemberState::kDead || claim.state == MemberState::kLeft);
  if (claim.id == self_.id) {
    OnClaimAboutSelf(claim.incarnation, now);
    return;
  }
  Record* record = FindRecord(claim.id);
  if (record == nullptr || !IsLive(record->member.state)) return;
  if (claim.incarnation < record->member.incarnation) return;
  record->member.incarnation = claim.incarnation;
  SetState(*record, claim.state, now);
  Emit(claim.state == MemberState::kDead ? MembershipEventKind::kDead : MembershipEventKind::kLeft,
       record->member);
  Gossip(record->member, update.accuser);
}

// ---- Helpers ------------------------------------------------------------------------------------

void Swim::SetState(Record& record, MemberState state, absl::Time now) {
  MemberTimersChanged();
  const bool was_live = IsLive(record.member.state);
  record.member.state = state;
  record.state_since = now;
  if (state != MemberState::kSuspect) {
    record.first_accuser = kNoNode;
    record.confirmers.clear();
  }
  if (was_live && !IsLive(state)) {
    RemoveLiveId(record.member.id);
  } else if (!was_live && IsLive(state)) {
    AddLiveId(record.member.id);
    AddToProbeOrder(record.member.id);
  }
}

void Swim::AddLiveId(NodeId id) {
  auto it = std::lower_bound(live_ids_.begin(), live_ids_.end(), id);
  assert(it == live_ids_.end() || *it != id);
  live_ids_.insert(it, id);
}

void Swim::RemoveLiveId(NodeId id) {
  auto it = std::lower_bound(live_ids_.begin(), live_ids_.end(), id);
  assert(it != live_ids_.end() && *it == id);
  live_ids_.erase(it);
}

void Swim::StartSuspicion(Record& record, NodeId accuser, absl::Time now) {
  MemberTimersChanged();
  const size_t n = LiveCount();
  record.suspicion_min =
      SuspicionMinTimeout(config_.suspicion_mult, n, config_.probe_interval);
  record.suspicion_max = record.suspicion_min * config_.suspicion_max_mult;
  record.expected_confirmations =
      std::clamp(config_.indirect_probes, 0, std::max(0, static_cast<int>(n) - 2));
  record.first_accuser = accuser;
  record.confirmers.clear();
  record.state_since = now;
}

bool Swim::OnClaimAboutSelf(Incarnation claimed, absl::Time now) {
  if (leaving_) return false;
  // Whoever sent the claim believes it: answer it directly (HandleMessage), whether the claim is
  // current (we refute now) or stale (our refutation's copies all missed the sender).
  if (handling_from_ != kNoNode) answer_sender_with_self_ = true;
  if (claimed < self_.incarnation) {
    RegossipRefutation();
    return false;
  }
  Refute(claimed, now);
  return true;
}

void Swim::Refute(Incarnation seen, absl::Time now) {
  self_.incarnation = std::max(self_.incarnation, seen) + 1;
  ++stats_.refutations;
  Gossip(self_, self_.id);
  SendRefutationEagerly();
  (void)now;
}

void Swim::RegossipRefutation() {
  // Someone still accuses an older incarnation of us: our refutation's bounded retransmissions
  // did not reach it (with 10% loss, all λ·log(N+1) copies are occasionally lost). Queue it again,
  // but only once the previous copies are spent, so stale accusations cannot amplify traffic.
  if (broadcasts_.TransmitsOf(self_.id) >= 0) return;
  Gossip(self_, self_.id);
}

void Swim::Gossip(const Member& member, NodeId accuser) {
  const BroadcastPriority priority = member.id == self_.id ? BroadcastPriority::kSelf
                                     : member.state == MemberState::kAlive
                                         ? BroadcastPriority::kAlive
                                         : BroadcastPriority::kFailure;
  broadcasts_.Enqueue(MemberUpdate{member, accuser}, priority);
}

void Swim::Emit(MembershipEventKind kind, const Member& member) {
  if (events_.size() >= kMaxPendingEvents) {
    ++stats_.dropped;
    return;
  }
  events_.push_back(MembershipEvent{kind, member});
}

void Swim::AddToProbeOrder(NodeId id) {
  // SWIM: a new member goes to a random position in the rest of the current pass.
  const size_t remaining = probe_order_.size() - std::min(probe_index_, probe_order_.size());
  const size_t position = std::min(probe_index_, probe_order_.size()) + random_.Uniform(remaining + 1);
  probe_order_.insert(probe_order_.begin() + static_cast<std::ptrdiff_t>(position), id);
}

}  // namespace crema::membership
