// Swim: receiving, handling and sending messages (probes, acks, ping-req relays, push-pull).
#include <algorithm>
#include <cassert>
#include <cmath>
#include <utility>

#include "absl/strings/str_cat.h"
#include "node/membership/swim.h"

namespace crema::membership {
namespace {

// Lifeguard: a relay sends its nack at 80% of its probe timeout, so the nack can still reach the
// requester before the requester's own period ends.
constexpr int kNackTimeoutPercent = 80;

}  // namespace

// ---- Messages -----------------------------------------------------------------------------------

absl::Status Swim::Receive(NodeId from, std::string_view bytes, absl::Time now,
                           std::optional<absl::Time> wall_now) {
  assert(now >= last_now_);
  last_now_ = now;
  absl::StatusOr<Message> message = DecodeMessage(bytes);
  if (!message.ok()) {
    ++stats_.messages_rejected;
    return message.status();
  }
  if (message->to != self_.id) {
    ++stats_.messages_rejected;
    return absl::FailedPreconditionError(
        absl::StrCat("message for node ", message->to, " reached node ", self_.id));
  }
  if (message->from != from || from == self_.id) {
    ++stats_.messages_rejected;
    return absl::InvalidArgumentError(
        absl::StrCat("message claims sender ", message->from, " but came from ", from));
  }
  ++stats_.messages_received;
  if (Record* record = FindRecord(from)) record->phi.Heartbeat(now);
  wall_now_ = wall_now;
  HandleMessage(*message, now);
  wall_now_.reset();
  return absl::OkStatus();
}

void Swim::HandleMessage(const Message& message, absl::Time now) {
  // OnClaimAboutSelf sets answer_sender_with_self_ if the message accuses us (stale or current):
  // the sender believes it, so our alive record goes straight back to it.
  handling_from_ = message.from;
  answer_sender_with_self_ = false;
  if (message.type == MessageType::kPushPull) {
    MergeRemoteState(message, now);
    handling_from_ = kNoNode;
    const bool answer = std::exchange(answer_sender_with_self_, false);
    if (!message.is_reply) {
      SendPushPull(message.from, /*is_reply=*/true);  // carries our record anyway
    } else if (answer) {
      SendSelfTo(message.from);
      ++stats_.refutation_replies_sent;
    }
    return;
  }
  for (const MemberUpdate& update : message.updates) ApplyUpdate(update, now);
  handling_from_ = kNoNode;
  const bool answer = std::exchange(answer_sender_with_self_, false);
  if (answer && message.type != MessageType::kPing) {
    SendSelfTo(message.from);
    ++stats_.refutation_replies_sent;
  }
  switch (message.type) {
    case MessageType::kPing: {
      Message ack;
      ack.type = MessageType::kAck;
      ack.to = message.from;
      ack.seq = message.seq;
      ack.target = self_.id;
      if (wall_now_.has_value()) ack.wall_unix_ns = absl::ToUnixNanos(*wall_now_);
      if (answer) {
        ack.updates.push_back(MemberUpdate{self_, self_.id});
        ++stats_.refutation_replies_sent;
      }
      Send(std::move(ack));
      break;
    }
    case MessageType::kAck:
      HandleAck(message, now);
      break;
    case MessageType::kPingReq:
      HandlePingReq(message, now);
      break;
    case MessageType::kNack:
      if (probe_.has_value() && probe_->seq == message.seq && probe_->target == message.target) {
        probe_->nacks = std::min(probe_->nacks + 1, probe_->expected_nacks);
        ++stats_.nacks_received;
      }
      break;
    case MessageType::kGossip:
    case MessageType::kPushPull:
      break;
  }
  // A sender we have never heard of (header comment, "Anti-entropy"): ask it for its state, after
  // answering what it asked.
  if (FindRecord(message.from) == nullptr && !leaving_ && now >= next_unknown_sender_pull_at_) {
    next_unknown_sender_pull_at_ = now + config_.probe_interval;
    ++stats_.unknown_sender_pulls;
    SendPushPull(message.from, /*is_reply=*/false);
  }
}

void Swim::HandleAck(const Message& message, absl::Time now) {
  // An ack for a ping we relayed: forward it to the requester under its seq.
  if (auto it = relays_.find(message.seq); it != relays_.end() && it->second.target == message.from) {
    Message forward;
    forward.type = MessageType::kAck;
    forward.to = it->second.requester;
    forward.seq = it->second.requester_seq;
    forward.target = it->second.target;
    relays_.erase(it);
    Send(std::move(forward));
    return;
  }
  // An ack for our own probe, direct or forwarded (then `target` names the probed member).
  if (probe_.has_value() && probe_->seq == message.seq && probe_->target == message.target) {
    // Straight from the target (not forwarded by a relay) and carrying its wall clock: an offset
    // sample. The target read its clock after our ping left (probe_->sent_at; any copy of the
    // ping, however delayed or duplicated, left no earlier) and before this ack arrived.
    if (message.from == probe_->target && message.wall_unix_ns.has_value() &&
        wall_now_.has_value() && clock_samples_.size() < kMaxPendingClockSamples) {
      const absl::Duration half_rtt = (now - probe_->sent_at) / 2;
      clock_samples_.push_back(ClockSample{
          .peer = message.from,
          .offset = (*wall_now_ - half_rtt) - absl::FromUnixNanos(*message.wall_unix_ns),
          .error = half_rtt,
          .taken_at = now});
      ++stats_.clock_samples;
    }
    probe_.reset();
    health_.Apply(-1);
  }
}

void Swim::HandlePingReq(const Message& message, absl::Time now) {
  if (message.target == self_.id || message.target == kNoNode) return;
  if (relays_.size() >= kMaxRelayedProbes) {
    ++stats_.dropped;
    return;
  }
  const uint64_t seq = next_seq_++;
  relays_[seq] = Relay{message.from, message.seq, message.target,
                       now + health_.Scale(config_.probe_timeout) * kNackTimeoutPercent / 100};
  Message ping;
  ping.type = MessageType::kPing;
  ping.to = message.target;
  ping.seq = seq;
  ping.target = message.target;
  Send(std::move(ping));  // carries our suspicion of the target, if any
}

int Swim::RetransmitLimit() const {
  const double n = static_cast<double>(LiveCount());
  return config_.retransmit_mult * static_cast<int>(std::ceil(std::log10(n + 1.0)));
}

void Swim::Send(Message message, bool piggyback) {
  message.from = self_.id;
  if (message.type != MessageType::kPushPull) {
    AttachSuspicionOfRecipient(message);
    if (piggyback) {
      size_t used = kMessageHeaderBytes;
      if (message.wall_unix_ns.has_value()) used += kWallTimeTrailerBytes;
      for (const MemberUpdate& u : message.updates) used += EncodedUpdateBytes(u);
      assert(used <= config_.max_message_bytes);
      broadcasts_.Fill(config_.max_message_bytes - used, RetransmitLimit(), &message.updates);
    }
    if (message.type == MessageType::kGossip && message.updates.empty()) return;
  }
  if (outbox_.size() >= kMaxOutboxMessages) {
    ++stats_.dropped;
    return;
  }
  std::string bytes = EncodeMessage(message);
  ++stats_.messages_sent;
  stats_.bytes_sent += bytes.size();
  outbox_.push_back(OutgoingMessage{message.to, std::move(bytes)});
}

void Swim::SendSelfTo(NodeId to) {
  Message message;
  message.type = MessageType::kGossip;
  message.to = to;
  message.updates.push_back(MemberUpdate{self_, self_.id});
  Send(std::move(message));
}

void Swim::SendPushPull(NodeId to, bool is_reply) {
  Message message;
  message.type = MessageType::kPushPull;
  message.to = to;
  message.is_reply = is_reply;
  // Full state: self first, then the table from a random starting point, as much as fits (with
  // kMaxMembershipMessageBytes that is every member of clusters up to roughly a thousand nodes).
  size_t used = kMessageHeaderBytes;
  auto add = [&](const Member& member, NodeId accuser) {
    MemberUpdate update{member, accuser};
    const size_t bytes = EncodedUpdateBytes(update);
    if (used + bytes > config_.max_message_bytes) return;
    used += bytes;
    message.updates.push_back(std::move(update));
  };
  add(self_, self_.id);
  std::vector<const Record*> records;
  records.reserve(members_.size());
  for (const auto& [id, record] : members_) records.push_back(&record);
  const size_t start = records.empty() ? 0 : random_.Uniform(records.size());
  for (size_t i = 0; i < records.size(); ++i) {
    const Record* record = records[(start + i) % records.size()];
    add(record->member, record->member.state == MemberState::kLeft ? record->member.id
                                                                    : self_.id);
  }
  ++stats_.push_pulls_sent;
  Send(std::move(message));
}

std::vector<NodeId> Swim::RandomLiveMembers(size_t count, NodeId exclude) {
  const bool excluded_is_live = std::binary_search(live_ids_.begin(), live_ids_.end(), exclude);
  const size_t available = live_ids_.size() - (excluded_is_live ? 1 : 0);
  const size_t take = std::min(count, available);
  std::vector<NodeId> picked;
  picked.reserve(take);
  if (4 * take <= available) {
    // Few out of many (gossip and relay targets): rejection sampling, O(take) expected. Each
    // draw is accepted with probability >= 3/4, so the bound is practically never reached.
    const size_t max_draws = 64 * take;
    for (size_t draw = 0; draw < max_draws && picked.size() < take; ++draw) {
      const NodeId id = live_ids_[random_.Uniform(live_ids_.size())];
      if (id == exclude || std::find(picked.begin(), picked.end(), id) != picked.end()) continue;
      picked.push_back(id);
    }
    if (picked.size() == take) return picked;
    picked.clear();
  }
  // Otherwise a partial Fisher–Yates: the first `take` entries become a uniform sample.
  std::vector<NodeId> live;
  live.reserve(live_ids_.size());
  for (NodeId id : live_ids_) {
    if (id != exclude) live.push_back(id);
  }
  for (size_t i = 0; i < take; ++i) {
    std::swap(live[i], live[i + random_.Uniform(live.size() - i)]);
  }
  live.resize(take);
  return live;
}

std::vector<OutgoingMessage> Swim::TakeOutbox() { return std::exchange(outbox_, {}); }
std::vector<MembershipEvent> Swim::TakeEvents() { return std::exchange(events_, {}); }
std::vector<ClockSample> Swim::TakeClockSamples() { return std::exchange(clock_samples_, {}); }

}  // namespace crema::membership
