// ClockMonitor: decides whether this node's WALL clock is out of the cluster's skew bound, from
// round-trip-bounded estimates of its offset to each peer. Pure and deterministic (no clock, no
// I/O): samples and the current monotonic time are inputs.
//
// Why: TTL deadlines are stamped by a shard leader's wall clock and local reads judge expiry by
// the reader's own wall clock (cache/replicated/cache_state_machine.h). Those guarantees hold only
// while any two nodes' wall clocks are at most `max_offset` (the cache's max_clock_skew) apart.
// Leases run on the monotonic clock and do not depend on this.
//
// Measurement (done by Swim, swim_messages.cc): a direct probe's ack carries the target's wall
// clock W_peer, read when it handled the ping. The prober sent the ping at monotonic time S and
// gets the ack at monotonic time R with wall clock W_self, round trip rtt = R - S. The peer read
// its clock somewhere inside that round trip, so
//     offset (ours minus the peer's) = W_self - rtt/2 - W_peer,   |true - estimate| <= rtt/2,
// as long as neither clock's rate is off by a meaningful fraction over one round trip. Using the
// monotonic rtt and a single wall reading per side, a wall-clock step during the round trip moves
// the sample to the new clock, never widening its error.
//
// The rule (CockroachDB's RemoteClockMonitor, which exits the process instead):
//   A peer is "surely beyond" if |offset| - error > max_offset. The node is OUT OF BOUND when
//   MORE THAN HALF of its live peers (as the caller says: alive or suspect) have a fresh estimate
//   (younger than sample_ttl) that is surely beyond. One bad node among good ones sees all its
//   peers beyond; a good node sees only the bad one, which is never a majority when there are at
//   least three nodes. With two nodes neither can tell which clock is wrong, and both stop (safe).
//   The denominator is the live peers, not the estimates: right after boot a good node may hold
//   a single estimate, of the one bad peer (seen in the simulator: 6 of 8 seeds before this rule).
//   Entering is immediate. Leaving needs evidence: more than half of the live peers with a fresh
//   estimate that is not surely beyond, continuously for recovery_hold (hysteresis, so a clock
//   that flaps around the bound does not flap the node's service).
//   sample_ttl must exceed the time to probe every member (about N probe periods; SWIM's
//   round-robin probes each member once per pass), or a large cluster never holds a majority.
//   A local step: the caller also reports its own (monotonic, wall) readings. When the wall clock
//   moved more than max_offset further than the monotonic clock since the last report (an NTP or
//   operator step, or libfaketime), every sample is stale (each was taken against the old
//   clock): they are dropped and the node is OUT OF BOUND at once, until fresh estimates show it
//   back in bound for recovery_hold. A step that large means the clock was, or now is, further
//   than the bound from where it was; refusing until re-measured costs a few probe periods, and
//   no request ever sees a stamp from a clock that has just jumped. Gradual drift is caught by
//   the peers' estimates instead (within a probe pass).
//   No false positives by construction: while every pair of clocks is within max_offset and the
//   error bound holds, |offset| - error <= |true offset| <= max_offset, so no peer is surely beyond.
//
// Example:
//   ClockMonitor monitor({.max_offset = absl::Milliseconds(500)});
//   monitor.AddSample({.peer = 2, .offset = absl::Seconds(3), .error = absl::Milliseconds(1),
//                      .taken_at = now});
//   if (monitor.Evaluate(now, live_peers)) log(monitor.status());   // a transition
//   if (monitor.status().out_of_bound) refuse what depends on the wall clock;
//
// Bounds: one sample per peer, at most kMaxClockPeers; samples older than sample_ttl are dropped
// by Evaluate. Thread safety: none.
#ifndef CREMA_NODE_MEMBERSHIP_CLOCK_MONITOR_H_
#define CREMA_NODE_MEMBERSHIP_CLOCK_MONITOR_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "absl/container/btree_map.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "node/membership/types.h"

namespace crema::membership {

inline constexpr size_t kMaxClockPeers = 4096;  // = kMaxMembers (swim.h)

struct ClockSample {
  NodeId peer = kNoNode;
  absl::Duration offset;  // our wall clock minus the peer's (positive: we are ahead)
  absl::Duration error;   // |true offset - offset| <= error (half the round trip); >= 0
  absl::Time taken_at;    // monotonic
  friend bool operator==(const ClockSample&, const ClockSample&) = default;
};

struct ClockMonitorConfig {
  // The skew bound (CacheConfig::max_clock_skew). Zero disables the monitor (never out of bound).
  absl::Duration max_offset = absl::ZeroDuration();
  // A sample counts for this long (a peer is probed about once per pass over the members, i.e.
  // every N-1 probe periods: 2 min keeps every live peer's estimate fresh up to ~100 members at
  // the default 1 s period; a local step drops them all anyway).
  absl::Duration sample_ttl = absl::Minutes(2);
  // Back in bound only after this long continuously in bound.
  absl::Duration recovery_hold = absl::Seconds(10);
};

struct ClockStatus {
  bool enabled = false;
  bool out_of_bound = false;
  size_t peers_estimated = 0;   // fresh estimates of live peers, at the last Evaluate
  size_t peers_beyond = 0;      // of those, surely beyond max_offset
  // Over those estimates: the median of our offset (signed; ours minus theirs) and the one of
  // largest magnitude (signed). Zero without estimates.
  absl::Duration median_offset;
  absl::Duration max_offset_seen;
  absl::Time since = absl::InfinitePast();  // monotonic time of the last transition
  uint64_t transitions = 0;
  uint64_t local_steps = 0;      // wall-clock steps beyond max_offset seen locally
  absl::Duration last_step;      // the latest such step (wall minus monotonic progress)
  uint64_t samples = 0;          // accepted
  uint64_t samples_dropped = 0;  // table full
};

// "clock out of bound: offset +5000 ms to a majority of peers (3 of 4 beyond 500 ms)".
std::string DescribeClockStatus(const ClockStatus& status, absl::Duration max_offset);

class ClockMonitor {
 public:
  // REQUIRES: max_offset >= 0, sample_ttl > 0, recovery_hold >= 0.
  explicit ClockMonitor(ClockMonitorConfig config);

  // Keeps the latest sample per peer (a newer one replaces it). REQUIRES: s.error >= 0.
  void AddSample(const ClockSample& s);
  // The peer is gone (dead, left): its estimate goes with it.
  void Forget(NodeId peer) { samples_.erase(peer); }

  // This node's own clocks, read at the same instant. Returns true if out_of_bound changed (a
  // step beyond max_offset). REQUIRES: `mono` never decreases across calls.
  bool ObserveLocalClocks(absl::Time mono, absl::Time wall);

  // Drops expired samples and re-decides with the samples of `live_peers` (sorted or not; self
  // and unknown ids are ignored). Returns true if out_of_bound changed. REQUIRES: `now` never
  // decreases across calls.
  bool Evaluate(absl::Time now, absl::Span<const NodeId> live_peers);

  const ClockStatus& status() const { return status_; }
  const ClockMonitorConfig& config() const { return config_; }
  std::optional<ClockSample> SampleOf(NodeId peer) const;
  // What a refusal says (DescribeClockStatus of the current status).
  std::string Describe() const { return DescribeClockStatus(status_, config_.max_offset); }

 private:
  ClockMonitorConfig config_;
  absl::btree_map<NodeId, ClockSample> samples_;
  ClockStatus status_;
  std::optional<absl::Time> in_bound_since_;  // while out of bound: condition false since then
  absl::Time last_now_ = absl::InfinitePast();
  std::optional<std::pair<absl::Time, absl::Time>> last_local_;  // (mono, wall)
};

}  // namespace crema::membership

#endif  // CREMA_NODE_MEMBERSHIP_CLOCK_MONITOR_H_
