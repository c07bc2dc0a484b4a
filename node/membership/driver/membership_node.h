// MembershipNode: the fiber driver that runs the SWIM core (node/membership/swim.h) on crema::Env.
//
// What it does:
//   * Installs the Service::kMembership handler. Each datagram is stepped straight into the core on
//     the event loop (`Swim::Receive`, then the outbox is sent and events are delivered), so there
//     is no inbox queue to bound; the core's own outbox/event bounds apply and are drained after
//     every call.
//   * One fiber ("membership.tick") sleeps until `Swim::NextTickTime()` on the node's monotonic
//     clock and ticks the core. A datagram that moves the next tick earlier (a ping-req to relay,
//     say) wakes it.
//   * Joins through `config.seeds` at Start; the core retries every join_retry_interval while it
//     knows no other member. On top of that, every `seed_reconnect_interval` the driver sends a
//     push-pull to each seed that is not live in its view — so a restarted seed, or the other side
//     of a partition that outlasted the tombstones, is found again.
//   * Delivers membership events to subscribers synchronously, on the loop, in the order the core
//     produced them, subscribers called in subscription order. Callbacks must not block (spawn a
//     fiber for slow work); they may call Leave/UpdateMetadata/Subscribe/Unsubscribe.
//   * Clock offsets: every datagram is stepped with the node's wall clock too, so acks to direct
//     pings carry it; the samples the core takes from its probes' acks feed a ClockMonitor,
//     re-evaluated after every datagram and tick, with the live members. A dead or departed
//     member's estimate is forgotten. `clock_status()` tells whether this node's wall clock is
//     out of the skew bound; each transition is traced ("membership.clock") and handed to the
//     clock observer (the server logs it).
//   * Exposes the member table, per-peer health (`Phi`, `IsAvailable`, `Health`) and the shard
//     placement (`Placement()`), rebuilt lazily from the live members after the live set changes.
//
// Health API for a multi-Raft host (how quiescent groups get woken):
//   A quiescent Raft group sends no heartbeats, so it cannot notice its leader's death by itself.
//   The host subscribes once per node and, on kSuspected, kDead or kLeft of node X, looks up every
//   quiescent group whose leader (as last known) is X and, if `!IsAvailable(X)`, un-quiesces it
//   (resumes ticking; pre-vote keeps a false alarm from disrupting a healthy leader). kJoined and
//   kAliveAgain need no action. Before campaigning on its own timeout a group may also consult
//   `IsAvailable(leader)` to avoid waking while SWIM still sees the leader alive.
//     IsAvailable(X) == X is self, or SWIM says X is alive, or X is suspect but `Phi(X)` is below
//     the detector's threshold (we heard from it recently: likely a lost probe, not a failure).
//     Dead, left and unknown members are unavailable.
//   `Phi(X)` is the phi-accrual level over every membership message received from X; it is a
//   graded signal (logging, relay choice, tie-breaks), never a sole verdict: with randomised
//   probing, traffic between two given members of a large cluster is sparse and irregular.
//
// Example:
//   MembershipNode membership(env, {.seeds = {1, 2, 3}, .address = "10.0.0.4:7000"});
//   CHECK_OK(membership.Start());
//   membership.Subscribe([&](const MembershipEvent& e) { host.OnMembershipEvent(e); });
//   ... in a fiber: membership.WaitForLiveMembers(3, absl::Seconds(30));
//   std::shared_ptr<const ShardMap> map = membership.Placement();
//
// Thread safety: none; everything runs on the node's event loop. Env must outlive the node.
// Destroying the node after its Executor (a crash in the simulator) is fine: the destructor touches
// no Env object.
#ifndef CREMA_NODE_MEMBERSHIP_DRIVER_MEMBERSHIP_NODE_H_
#define CREMA_NODE_MEMBERSHIP_DRIVER_MEMBERSHIP_NODE_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "node/env.h"
#include "node/membership/clock_monitor.h"
#include "node/membership/placement.h"
#include "node/membership/swim.h"
#include "node/membership/types.h"
#include "node/random.h"

namespace crema::membership {

inline constexpr size_t kMaxSubscribers = 64;
// Rounds of "send outbox, deliver events" per step; callbacks that keep producing events (e.g.
// calling UpdateMetadata on every event) are a programmer error caught by this bound.
inline constexpr int kMaxFlushRounds = 16;

struct MembershipNodeConfig {
  SwimConfig swim;
  std::vector<NodeId> seeds;  // ids to join through; self is ignored
  std::string address;        // gossiped to others; the Network itself routes by node id
  Metadata metadata;
  PlacementConfig placement;
  absl::Duration seed_reconnect_interval = absl::Seconds(30);  // REQUIRES: > 0
  // Wall-clock offset monitoring (clock_monitor.h). Acks always carry this node's wall clock;
  // with clock.max_offset > 0 the node also judges its own clock from its probes' acks.
  ClockMonitorConfig clock;
};

// One member's health as this node sees it.
struct PeerHealth {
  bool known = false;
  MemberState state = MemberState::kDead;  // meaningful only if known
  Incarnation incarnation = 0;
  double phi = 0;
  bool available = false;
};

struct MembershipNodeStats {
  uint64_t datagrams_received = 0;
  uint64_t datagrams_rejected = 0;  // undecodable, misaddressed or spoofed (Swim::Receive error)
  uint64_t ticks = 0;
  uint64_t events_delivered = 0;
  uint64_t seed_reconnects = 0;
  uint64_t placement_rebuilds = 0;
};

class MembershipNode {
 public:
  using EventCallback = absl::AnyInvocable<void(const MembershipEvent&)>;
  using SubscriptionId = uint64_t;

  // REQUIRES: env.self != kNoNode; env.clock, network, random, executor, tracer non-null; config
  // within the bounds of swim.h / placement.h.
  MembershipNode(Env env, MembershipNodeConfig config);
  ~MembershipNode();
  MembershipNode(const MembershipNode&) = delete;
  MembershipNode& operator=(const MembershipNode&) = delete;

  // Installs the handler, starts joining, spawns the tick fiber. FAILED_PRECONDITION if called
  // twice.
  [[nodiscard]] absl::Status Start();

  // Graceful leave: gossips "left" and stops probing (still answers pings). Idempotent.
  void Leave();

  // Stops the driver: the tick fiber ends and incoming datagrams are dropped. Idempotent. Use it
  // for a clean shutdown without announcing a leave (others will detect the silence).
  void Stop();

  // Publishes new metadata (gossiped with a higher incarnation).
  [[nodiscard]] absl::Status UpdateMetadata(Metadata metadata);

  // RESOURCE_EXHAUSTED beyond kMaxSubscribers.
  [[nodiscard]] absl::StatusOr<SubscriptionId> Subscribe(EventCallback callback);
  void Unsubscribe(SubscriptionId id);

  // Fiber-only: waits until at least `count` members (self included) are live in this node's view.
  // OK, DEADLINE_EXCEEDED or CANCELLED.
  [[nodiscard]] absl::Status WaitForLiveMembers(size_t count, absl::Duration timeout);

  // --- Views ---
  NodeId self() const { return env_.self; }
  const Member& self_member() const { return swim_->self(); }
  std::vector<Member> Members() const { return swim_->Members(); }  // self first, then by id
  std::vector<NodeId> LiveMembers() const { return swim_->LiveMemberIds(); }  // sorted
  size_t LiveCount() const { return swim_->LiveCount(); }
  std::optional<Member> Find(NodeId id) const;
  double Phi(NodeId id) const;
  bool IsAvailable(NodeId id) const { return Health(id).available; }
  PeerHealth Health(NodeId id) const;
  // The placement for the current live members (rebuilt on first use after a change). Callers may
  // keep the pointer; it stays valid and unchanged. REQUIRES: Start() was called.
  std::shared_ptr<const ShardMap> Placement();
  // Bumped whenever the live member set changes (joined, dead, left).
  uint64_t view_version() const { return view_version_; }
  bool started() const { return started_; }
  bool stopped() const { return stopped_; }
  const Swim& swim() const { return *swim_; }
  const MembershipNodeStats& stats() const { return stats_; }
  // This node's wall clock against its peers' (clock_monitor.h). `ClockOutOfBound()`: stop
  // serving what depends on the wall clock.
  const ClockStatus& clock_status() const { return clock_.status(); }
  // Also checks for a local wall-clock step first (so a request right after a step sees it).
  bool ClockOutOfBound();
  // The same check with readings the caller took (monotonic, wall; now): a caller that goes on
  // to use `wall` (an expiry decision) has then checked exactly the reading it uses.
  bool ClockOutOfBound(absl::Time mono, absl::Time wall);
  std::string DescribeClock() const { return clock_.Describe(); }
  const ClockMonitor& clock_monitor() const { return clock_; }
  // Called on the loop at each transition of ClockOutOfBound (after tracing it); one observer.
  using ClockObserver = absl::AnyInvocable<void(const ClockStatus&, const std::string&)>;
  void SetClockObserver(ClockObserver observer) { clock_observer_ = std::move(observer); }

 private:
  void OnDatagram(NodeId from, std::string bytes);
  void TickLoop();
  void MaybeReconnectSeeds(absl::Time now);
  // Sends the core's outbox and delivers its events until both are empty.
  void Flush();
  void Deliver(const MembershipEvent& event);
  void WakeTickerIfEarlier();
  // Feeds the core's clock samples to the monitor and re-evaluates it. `now` (monotonic) and
  // `wall`: this node's clocks when the core last ran.
  void UpdateClock(absl::Time now, absl::Time wall);
  void OnClockTransition();
  absl::Time Now() const { return env_.clock->MonotonicNow(); }

  Env env_;
  MembershipNodeConfig config_;
  Random random_;  // forked from env.random ("membership"); Swim holds a reference
  std::unique_ptr<Swim> swim_;
  bool started_ = false;
  bool stopped_ = false;
  bool flushing_ = false;
  FiberId ticker_ = 0;
  WaitList ticker_wake_;
  absl::Time ticker_deadline_ = absl::InfiniteFuture();
  absl::Time next_seed_reconnect_ = absl::InfiniteFuture();
  WaitList view_waiters_;
  absl::btree_map<SubscriptionId, std::shared_ptr<EventCallback>> subscribers_;
  SubscriptionId next_subscription_ = 1;
  uint64_t view_version_ = 0;
  uint64_t placement_version_ = UINT64_MAX;
  std::shared_ptr<const ShardMap> placement_;
  ClockMonitor clock_;
  ClockObserver clock_observer_;
  MembershipNodeStats stats_;
};

}  // namespace crema::membership

#endif  // CREMA_NODE_MEMBERSHIP_DRIVER_MEMBERSHIP_NODE_H_
