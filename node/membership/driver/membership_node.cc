#include "node/membership/driver/membership_node.h"

#include <algorithm>
#include <cassert>
#include <utility>

#include "absl/strings/str_cat.h"

namespace crema::membership {
namespace {

// Rounds up to a whole nanosecond. Swim's deadlines can carry sub-nanosecond fractions (Lifeguard's
// timeout is computed in floating point) and timers have nanosecond resolution: waiting for the
// unrounded deadline would wake a fraction of a nanosecond early, find nothing due, and spin.
absl::Time CeilToNanosecond(absl::Time t) {
  if (t == absl::InfiniteFuture()) return t;
  return absl::UnixEpoch() + absl::Ceil(t - absl::UnixEpoch(), absl::Nanoseconds(1));
}

bool ChangesLiveSet(MembershipEventKind kind) {
  return kind == MembershipEventKind::kJoined || kind == MembershipEventKind::kDead ||
         kind == MembershipEventKind::kLeft;
}

}  // namespace

MembershipNode::MembershipNode(Env env, MembershipNodeConfig config)
    : env_(env),
      config_(std::move(config)),
      random_(env.random->Fork("membership")),
      clock_(config_.clock) {
  assert(env_.self != kNoNode && env_.clock && env_.network && env_.executor && env_.tracer);
  assert(config_.seed_reconnect_interval > absl::ZeroDuration());
  swim_ = std::make_unique<Swim>(env_.self, config_.address, config_.metadata, config_.swim,
                                 random_, Now());
}

MembershipNode::~MembershipNode() = default;

absl::Status MembershipNode::Start() {
  if (started_) return absl::FailedPreconditionError("MembershipNode already started");
  started_ = true;
  env_.network->SetHandler(Service::kMembership, [this](NodeId from, std::string bytes) {
    OnDatagram(from, std::move(bytes));
  });
  const absl::Time now = Now();
  swim_->Join(config_.seeds, now);
  next_seed_reconnect_ = now + config_.seed_reconnect_interval;
  Flush();
  ticker_ = env_.executor->Spawn("membership.tick", [this] { TickLoop(); });
  return absl::OkStatus();
}

void MembershipNode::Leave() {
  if (!started_ || stopped_ || swim_->has_left()) return;
  swim_->Leave(Now());
  env_.tracer->Record("membership.leave", absl::StrCat(swim_->self().incarnation));
  Flush();
  WakeTickerIfEarlier();
}

void MembershipNode::Stop() {
  if (stopped_) return;
  stopped_ = true;
  if (ticker_ != 0) env_.executor->Cancel(ticker_);
  view_waiters_.WakeAll(*env_.executor);
}

absl::Status MembershipNode::UpdateMetadata(Metadata metadata) {
  if (stopped_) return absl::FailedPreconditionError("MembershipNode stopped");
  absl::Status status = swim_->UpdateMetadata(std::move(metadata), Now());
  if (status.ok()) Flush();
  return status;
}

absl::StatusOr<MembershipNode::SubscriptionId> MembershipNode::Subscribe(EventCallback callback) {
  assert(callback);
  if (subscribers_.size() >= kMaxSubscribers) {
    return absl::ResourceExhaustedError("too many membership subscribers");
  }
  const SubscriptionId id = next_subscription_++;
  subscribers_.emplace(id, std::make_shared<EventCallback>(std::move(callback)));
  return id;
}

void MembershipNode::Unsubscribe(SubscriptionId id) { subscribers_.erase(id); }

absl::Status MembershipNode::WaitForLiveMembers(size_t count, absl::Duration timeout) {
  const absl::Time deadline =
      timeout == absl::InfiniteDuration() ? absl::InfiniteFuture() : Now() + timeout;
  while (swim_->LiveCount() < count) {
    if (stopped_) return absl::CancelledError("MembershipNode stopped");
    absl::Status waited = env_.executor->Wait(view_waiters_, deadline);
    if (!waited.ok()) return waited;
  }
  return absl::OkStatus();
}

std::optional<Member> MembershipNode::Find(NodeId id) const {
  if (id == env_.self) return swim_->self();
  const Member* member = swim_->Find(id);
  if (member == nullptr) return std::nullopt;
  return *member;
}

double MembershipNode::Phi(NodeId id) const { return swim_->Phi(id, Now()); }

PeerHealth MembershipNode::Health(NodeId id) const {
  PeerHealth health;
  if (id == env_.self) {
    health.known = true;
    health.state = swim_->self().state;
    health.incarnation = swim_->self().incarnation;
    health.available = !swim_->has_left();
    return health;
  }
  const Member* member = swim_->Find(id);
  if (member == nullptr) return health;
  health.known = true;
  health.state = member->state;
  health.incarnation = member->incarnation;
  health.phi = Phi(id);
  health.available = member->state == MemberState::kAlive ||
                     (member->state == MemberState::kSuspect &&
                      health.phi < config_.swim.phi.threshold);
  return health;
}

std::shared_ptr<const ShardMap> MembershipNode::Placement() {
  assert(started_);
  if (placement_ == nullptr || placement_version_ != view_version_) {
    const std::vector<NodeId> live = swim_->LiveMemberIds();
    placement_ = std::make_shared<const ShardMap>(live, config_.placement);
    placement_version_ = view_version_;
    ++stats_.placement_rebuilds;
  }
  return placement_;
}

void MembershipNode::OnDatagram(NodeId from, std::string bytes) {
  if (stopped_) return;
  ++stats_.datagrams_received;
  const absl::Time now = Now();
  const absl::Time wall = env_.clock->Now();
  if (!swim_->Receive(from, bytes, now, wall).ok()) ++stats_.datagrams_rejected;
  UpdateClock(now, wall);
  Flush();
  WakeTickerIfEarlier();
}

void MembershipNode::WakeTickerIfEarlier() {
  if (CeilToNanosecond(swim_->NextTickTime()) < ticker_deadline_) ticker_wake_.WakeAll(*env_.executor);
}

void MembershipNode::TickLoop() {
  while (!stopped_) {
    ticker_deadline_ = CeilToNanosecond(std::min(swim_->NextTickTime(), next_seed_reconnect_));
    const absl::Status waited = env_.executor->Wait(ticker_wake_, ticker_deadline_);
    if (absl::IsCancelled(waited)) return;
    // OK means "woken: the deadline moved earlier"; recompute it. DEADLINE_EXCEEDED means due.
    if (waited.ok()) continue;
    const absl::Time now = Now();
    if (now >= swim_->NextTickTime()) {
      swim_->Tick(now);
      ++stats_.ticks;
    }
    MaybeReconnectSeeds(now);
    UpdateClock(now, env_.clock->Now());
    Flush();
  }
}

bool MembershipNode::ClockOutOfBound() {
  if (!clock_.status().enabled) return false;
  return ClockOutOfBound(env_.clock->MonotonicNow(), env_.clock->Now());
}

bool MembershipNode::ClockOutOfBound(absl::Time mono, absl::Time wall) {
  if (!clock_.status().enabled) return false;
  if (clock_.ObserveLocalClocks(mono, wall)) OnClockTransition();
  return clock_.status().out_of_bound;
}

void MembershipNode::UpdateClock(absl::Time now, absl::Time wall) {
  if (!clock_.status().enabled) {
    (void)swim_->TakeClockSamples();
    return;
  }
  // The local step check first: samples taken before a step are dropped, not these.
  if (clock_.ObserveLocalClocks(now, wall)) OnClockTransition();
  for (const ClockSample& sample : swim_->TakeClockSamples()) clock_.AddSample(sample);
  std::vector<NodeId> peers = swim_->LiveMemberIds();
  peers.erase(std::remove(peers.begin(), peers.end(), env_.self), peers.end());
  if (clock_.Evaluate(now, peers)) OnClockTransition();
}

void MembershipNode::OnClockTransition() {
  const std::string description = clock_.Describe();
  env_.tracer->Record("membership.clock", description);
  if (clock_observer_) clock_observer_(clock_.status(), description);
}

void MembershipNode::MaybeReconnectSeeds(absl::Time now) {
  if (now < next_seed_reconnect_) return;
  next_seed_reconnect_ = now + config_.seed_reconnect_interval;
  if (swim_->has_left()) return;
  for (NodeId seed : config_.seeds) {
    if (seed == env_.self || seed == kNoNode) continue;
    const Member* member = swim_->Find(seed);
    if (member != nullptr && IsLive(member->state)) continue;
    swim_->Reconnect(seed);
    ++stats_.seed_reconnects;
  }
}

void MembershipNode::Flush() {
  if (flushing_) return;  // a callback re-entered; the outer loop picks up what it produced
  flushing_ = true;
  for (int round = 0;; ++round) {
    std::vector<OutgoingMessage> outbox = swim_->TakeOutbox();
    std::vector<MembershipEvent> events = swim_->TakeEvents();
    if (outbox.empty() && events.empty()) break;
    assert(round < kMaxFlushRounds && "membership callbacks keep producing events");
    if (round >= kMaxFlushRounds) break;
    for (OutgoingMessage& message : outbox) {
      env_.network->Send(message.to, Service::kMembership, std::move(message.bytes));
    }
    for (const MembershipEvent& event : events) Deliver(event);
  }
  flushing_ = false;
}

void MembershipNode::Deliver(const MembershipEvent& event) {
  ++stats_.events_delivered;
  if (event.kind == MembershipEventKind::kDead || event.kind == MembershipEventKind::kLeft) {
    clock_.Forget(event.member.id);
  }
  if (ChangesLiveSet(event.kind)) {
    ++view_version_;
    view_waiters_.WakeAll(*env_.executor);
  }
  env_.tracer->Record("membership.event",
                      absl::StrCat(std::string(MembershipEventKindName(event.kind)), " ", event.member.id, "@",
                                   event.member.incarnation));
  // Snapshot first: a callback may subscribe or unsubscribe (itself included).
  std::vector<std::shared_ptr<EventCallback>> callbacks;
  callbacks.reserve(subscribers_.size());
  for (const auto& [id, callback] : subscribers_) callbacks.push_back(callback);
  for (const std::shared_ptr<EventCallback>& callback : callbacks) (*callback)(event);
}

}  // namespace crema::membership
