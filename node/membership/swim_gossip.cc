// Swim: the dissemination paths beyond piggybacking — the gossip timer (HashiCorp memberlist's
// GossipInterval/GossipNodes), suspicion reminders and eager refutation. Why they exist and the
// arithmetic behind them: swim.h and docs/membership.md ("Why no live member is declared dead").
#include <algorithm>
#include <utility>
#include <vector>

#include "node/membership/swim.h"

namespace crema::membership {

bool Swim::GossipEnabled() const {
  return config_.gossip_interval > absl::ZeroDuration() && config_.gossip_fanout > 0;
}

void Swim::GossipRound() {
  // Random live members, suspects included (memberlist gossips to suspects too: they must hear
  // the accusation). Each message takes the queued updates in priority order; each copy counts
  // against the update's retransmit budget, so the round adds speed, not copies.
  for (NodeId to : RandomLiveMembers(static_cast<size_t>(config_.gossip_fanout), kNoNode)) {
    if (broadcasts_.empty()) break;
    const uint64_t sent_before = stats_.messages_sent;
    Message message;
    message.type = MessageType::kGossip;
    message.to = to;
    Send(std::move(message));
    stats_.gossip_messages_sent += stats_.messages_sent - sent_before;
  }
}

void Swim::RemindSuspects(absl::Time now) {
  // Every member that holds a suspicion for at least a period tells the suspect again, once per
  // period: if the suspect refuted and every gossiped copy of the refutation missed us, its answer
  // (HandleMessage: a stale claim is answered with the alive record) comes straight back. Each
  // reminder and answer is one small message; a truly dead suspect costs one message per member
  // per period until its timeout. Most urgent (earliest deadline) first, bounded per period.
  std::vector<std::pair<absl::Time, NodeId>> due;
  for (const auto& [id, record] : members_) {
    if (record.member.state != MemberState::kSuspect) continue;
    if (now - record.state_since < config_.probe_interval) continue;
    if (probe_.has_value() && probe_->target == id) continue;  // the ping carries it already
    due.emplace_back(SuspicionDeadline(record), id);
  }
  std::sort(due.begin(), due.end());
  if (due.size() > kMaxSuspicionRemindersPerPeriod) due.resize(kMaxSuspicionRemindersPerPeriod);
  for (const auto& [deadline, id] : due) {
    Message reminder;
    reminder.type = MessageType::kGossip;
    reminder.to = id;
    // No piggyback: the suspect may be dead, and copies sent to it would be lost. Send attaches
    // our suspicion of the recipient.
    Send(std::move(reminder), /*piggyback=*/false);
    ++stats_.suspicion_reminders_sent;
  }
}

void Swim::SendRefutationEagerly() {
  // The refutation races every accuser's suspicion timer: besides queueing it (top priority, sent
  // on the next gossip round and every message) tell a few random members right away. The sender
  // of the accusation, if any, is answered separately (HandleMessage).
  for (NodeId to :
       RandomLiveMembers(static_cast<size_t>(config_.refutation_fanout), handling_from_)) {
    SendSelfTo(to);
  }
}

}  // namespace crema::membership
