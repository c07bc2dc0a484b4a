// Swim: construction, probing and timers. Message handling is in swim_messages.cc, the member
// table and incarnation rules in swim_state.cc.
#include "node/membership/swim.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <utility>


namespace crema::membership {
Swim::Swim(NodeId self, std::string address, Metadata metadata, SwimConfig config, Random& random,
           absl::Time now)
    : config_(std::move(config)),
      random_(random),
      health_(config_.max_health_score),
      broadcasts_(kMaxPendingBroadcasts) {
  assert(self != kNoNode);
  assert(config_.probe_timeout < config_.probe_interval);
  assert(config_.max_message_bytes <= kMaxMembershipMessageBytes &&
         config_.max_message_bytes > kMessageHeaderBytes + 1024);
  assert(config_.indirect_probes >= 0 && config_.retransmit_mult >= 1);
  assert(config_.gossip_fanout >= 0 && config_.refutation_fanout >= 0 &&
         config_.gossip_interval >= absl::ZeroDuration());
  self_.id = self;
  self_.address = std::move(address);
  self_.metadata = std::move(metadata);
  self_.incarnation = config_.initial_incarnation;
  self_.state = MemberState::kAlive;
  assert(IsEncodable(MemberUpdate{self_, self}));
  last_now_ = now;
  // Spread the first probe and push-pull over one interval so nodes started together don't probe
  // in lockstep.
  next_probe_at_ = now + random_.DurationBetween(absl::ZeroDuration(), config_.probe_interval);
  next_push_pull_at_ =
      now + random_.DurationBetween(config_.push_pull_interval / 2, config_.push_pull_interval);
  next_gossip_at_ =
      GossipEnabled()
          ? now + random_.DurationBetween(absl::ZeroDuration(), config_.gossip_interval)
          : absl::InfiniteFuture();
}

void Swim::Join(absl::Span<const NodeId> seeds, absl::Time now) {
  seeds_.clear();
  for (NodeId seed : seeds) {
    if (seed == self_.id || seed == kNoNode || seeds_.size() >= kMaxSeeds) continue;
    if (std::find(seeds_.begin(), seeds_.end(), seed) == seeds_.end()) seeds_.push_back(seed);
  }
  for (NodeId seed : seeds_) SendPushPull(seed, /*is_reply=*/false);
  next_join_at_ = now + config_.join_retry_interval;
  // Announce ourselves, as memberlist does on start: the seeds' own gossip about us may miss some
  // of the members joining at the same time, and a member nobody gossips about is only learned
  // through push-pull (tens of seconds).
  Gossip(self_, self_.id);
}

void Swim::Reconnect(NodeId id) {
  if (id == self_.id || id == kNoNode || leaving_) return;
  SendPushPull(id, /*is_reply=*/false);
}

void Swim::Leave(absl::Time now) {
  if (leaving_) return;
  leaving_ = true;
  self_.incarnation += 1;
  self_.state = MemberState::kLeft;
  Gossip(self_, self_.id);
  probe_.reset();
  for (NodeId to : RandomLiveMembers(config_.leave_fanout, kNoNode)) {
    Message message;
    message.type = MessageType::kGossip;
    message.to = to;
    message.updates.push_back(MemberUpdate{self_, self_.id});
    Send(std::move(message));
  }
  (void)now;
}

absl::Status Swim::UpdateMetadata(Metadata metadata, absl::Time now) {
  Member next = self_;
  next.metadata = std::move(metadata);
  if (!IsEncodable(MemberUpdate{next, self_.id})) {
    return absl::InvalidArgumentError("metadata exceeds the bounds in node/membership/types.h");
  }
  if (leaving_) return absl::FailedPreconditionError("node has left the cluster");
  next.incarnation += 1;
  self_ = std::move(next);
  Gossip(self_, self_.id);
  (void)now;
  return absl::OkStatus();
}

// ---- Timers -------------------------------------------------------------------------------------

void Swim::Tick(absl::Time now) {
  assert(now >= last_now_);
  last_now_ = now;
  ExpireRelays(now);
  if (now >= next_gossip_at_) {
    // A leaving node still gossips, so its "left" spreads; with nothing queued the round is
    // skipped and the next one may start as soon as something is queued (NextTickTime).
    if (!broadcasts_.empty()) GossipRound();
    next_gossip_at_ = now + config_.gossip_interval;
  }
  if (leaving_) return;  // a departed node otherwise only answers pings
  if (probe_.has_value() && !probe_->ping_reqs_sent && now >= probe_->timeout_at) {
    SendPingReqs(now);
  }
  if (now >= next_probe_at_) {
    // The cache NextTickTime and the expiry check below rely on must match the table (checked
    // once a period: an O(members) scan is cheap at that rate).
    assert(!member_timers_.has_value() || *member_timers_ == ScanMemberTimers());
    if (probe_.has_value()) FinishFailedProbe(now);
    StartProbe(now);
    next_probe_at_ = now + health_.Scale(config_.probe_interval);
  }
  if (now >= next_reminder_at_) {
    // Unscaled by local health: the suspect's refutation must reach us before our timeout,
    // which local health does not stretch either.
    RemindSuspects(now);
    next_reminder_at_ = now + config_.probe_interval;
  }
  if (now >= CachedMemberTimers().earliest) {
    ExpireSuspicions(now);
    ExpireTombstones(now);
  }
  MaybePushPull(now);
  MaybeRetryJoin(now);
}

absl::Time Swim::NextTickTime() const {
  absl::Time next = absl::InfiniteFuture();
  if (!relays_.empty()) {
    for (const auto& [seq, relay] : relays_) next = std::min(next, relay.nack_at);
  }
  if (GossipEnabled() && !broadcasts_.empty()) next = std::min(next, next_gossip_at_);
  if (leaving_) return next;
  next = std::min({next, next_probe_at_, next_push_pull_at_, next_join_at_});
  if (probe_.has_value() && !probe_->ping_reqs_sent) next = std::min(next, probe_->timeout_at);
  const MemberTimers& timers = CachedMemberTimers();
  next = std::min(next, timers.earliest);
  if (timers.any_suspect) next = std::min(next, next_reminder_at_);
  return next;
}

const Swim::MemberTimers& Swim::CachedMemberTimers() const {
  if (!member_timers_.has_value()) member_timers_ = ScanMemberTimers();
  return *member_timers_;
}

Swim::MemberTimers Swim::ScanMemberTimers() const {
  MemberTimers timers;
  for (const auto& [id, record] : members_) {
    if (record.member.state == MemberState::kSuspect) {
      timers.any_suspect = true;
      timers.earliest = std::min(timers.earliest, SuspicionDeadline(record));
    } else if (!IsLive(record.member.state)) {
      timers.earliest = std::min(timers.earliest, record.state_since + config_.tombstone_ttl);
    }
  }
  return timers;
}

std::optional<NodeId> Swim::NextProbeTarget() {
  // Bounded: at most one full pass plus one rebuild.
  for (size_t attempt = 0; attempt <= probe_order_.size() + 1; ++attempt) {
    if (probe_index_ >= probe_order_.size()) {
      probe_order_.clear();
      for (const auto& [id, record] : members_) {
        if (IsLive(record.member.state)) probe_order_.push_back(id);
      }
      // Fisher–Yates with the node's own stream: a fresh random order every pass.
      for (size_t i = probe_order_.size(); i > 1; --i) {
        std::swap(probe_order_[i - 1], probe_order_[random_.Uniform(i)]);
      }
      probe_index_ = 0;
      if (probe_order_.empty()) return std::nullopt;
    }
    const NodeId candidate = probe_order_[probe_index_++];
    const Record* record = FindRecord(candidate);
    if (record != nullptr && IsLive(record->member.state)) return candidate;
  }
  return std::nullopt;
}

void Swim::StartProbe(absl::Time now) {
  assert(!probe_.has_value());
  std::optional<NodeId> target = NextProbeTarget();
  if (!target.has_value()) return;
  Probe probe;
  probe.target = *target;
  probe.seq = next_seq_++;
  probe.sent_at = now;
  probe.timeout_at = now + health_.Scale(config_.probe_timeout);
  probe.period_end = now + health_.Scale(config_.probe_interval);
  probe_ = probe;
  ++stats_.probes_started;
  Message ping;
  ping.type = MessageType::kPing;
  ping.to = probe.target;
  ping.seq = probe.seq;
  ping.target = probe.target;
  Send(std::move(ping));  // carries our suspicion of the target, if any
}

void Swim::AttachSuspicionOfRecipient(Message& message) const {
  // A suspect learns of its suspicion from every message we send it, not only if the bounded
  // gossip happens to reach it (Lifeguard's buddy system, for all messages, not just pings):
  // without this, at small N and 10% loss a healthy member was occasionally declared dead without
  // ever hearing it was suspected (membership_bench). The suspect's answer to a stale copy is
  // its alive record, sent straight back to us (HandleMessage).
  auto it = members_.find(message.to);
  if (it == members_.end() || it->second.member.state != MemberState::kSuspect) return;
  for (const MemberUpdate& u : message.updates) {
    if (u.member.id == message.to) return;
  }
  const NodeId accuser =
      it->second.first_accuser != kNoNode ? it->second.first_accuser : self_.id;
  message.updates.push_back(MemberUpdate{it->second.member, accuser});
}

void Swim::SendPingReqs(absl::Time now) {
  assert(probe_.has_value());
  probe_->ping_reqs_sent = true;
  // Prefer responsive relays: draw 2k random candidates, keep the k with the lowest phi.
  std::vector<NodeId> candidates =
      RandomLiveMembers(2 * static_cast<size_t>(config_.indirect_probes), probe_->target);
  std::stable_sort(candidates.begin(), candidates.end(), [&](NodeId a, NodeId b) {
    return Phi(a, now) < Phi(b, now);
  });
  if (candidates.size() > static_cast<size_t>(config_.indirect_probes)) {
    candidates.resize(config_.indirect_probes);
  }
  probe_->expected_nacks = static_cast<int>(candidates.size());
  for (NodeId relay : candidates) {
    Message request;
    request.type = MessageType::kPingReq;
    request.to = relay;
    request.seq = probe_->seq;
    request.target = probe_->target;
    Send(std::move(request));
    ++stats_.ping_reqs_sent;
  }
}

void Swim::FinishFailedProbe(absl::Time now) {
  assert(probe_.has_value());
  const Probe probe = *probe_;
  probe_.reset();
  ++stats_.probes_failed;
  // Lifeguard: missing nacks mean *we* may be the problem; with no relays, count the miss itself.
  const int health_delta =
      probe.expected_nacks > 0 ? probe.expected_nacks - probe.nacks : 1;
  health_.Apply(health_delta);
  Record* record = FindRecord(probe.target);
  if (record == nullptr || !IsLive(record->member.state)) return;  // suspect: we confirm
  Member suspect = record->member;
  suspect.state = MemberState::kSuspect;
  ApplySuspect(MemberUpdate{suspect, self_.id}, now);
  // Tell the suspect directly so it can refute without waiting for gossip to reach it.
  Message tell;
  tell.type = MessageType::kGossip;
  tell.to = probe.target;
  tell.updates.push_back(MemberUpdate{suspect, self_.id});
  Send(std::move(tell));
}

void Swim::ExpireRelays(absl::Time now) {
  for (auto it = relays_.begin(); it != relays_.end();) {
    if (it->second.nack_at > now) {
      ++it;
      continue;
    }
    Message nack;
    nack.type = MessageType::kNack;
    nack.to = it->second.requester;
    nack.seq = it->second.requester_seq;
    nack.target = it->second.target;
    it = relays_.erase(it);
    Send(std::move(nack));
  }
}

void Swim::ExpireSuspicions(absl::Time now) {
  std::vector<MemberUpdate> deaths;
  for (const auto& [id, record] : members_) {
    if (record.member.state == MemberState::kSuspect && now >= SuspicionDeadline(record)) {
      Member dead = record.member;
      dead.state = MemberState::kDead;
      deaths.push_back(MemberUpdate{dead, self_.id});
    }
  }
  for (const MemberUpdate& death : deaths) ApplyGone(death, now);
}

void Swim::ExpireTombstones(absl::Time now) {
  for (auto it = members_.begin(); it != members_.end();) {
    const Record& record = it->second;
    if (!IsLive(record.member.state) && now >= record.state_since + config_.tombstone_ttl) {
      it = members_.erase(it);
      MemberTimersChanged();
    } else {
      ++it;
    }
  }
}

void Swim::MaybePushPull(absl::Time now) {
  if (now < next_push_pull_at_) return;
  next_push_pull_at_ = now + config_.push_pull_interval;
  for (NodeId to : RandomLiveMembers(1, kNoNode)) SendPushPull(to, /*is_reply=*/false);
  // Reconnect: also try one dead member, so the two sides of a healed partition find each other.
  std::vector<NodeId> dead;
  for (const auto& [id, record] : members_) {
    if (record.member.state == MemberState::kDead) dead.push_back(id);
  }
  if (!dead.empty()) SendPushPull(dead[random_.Uniform(dead.size())], /*is_reply=*/false);
}

void Swim::MaybeRetryJoin(absl::Time now) {
  if (now < next_join_at_) return;
  if (seeds_.empty()) {
    next_join_at_ = absl::InfiniteFuture();
    return;
  }
  next_join_at_ = now + config_.join_retry_interval;
  if (!live_ids_.empty()) return;  // joined; keep checking in case we end up alone again
  for (NodeId seed : seeds_) SendPushPull(seed, /*is_reply=*/false);
}

}  // namespace crema::membership
