// Swim: a pure, deterministic SWIM membership core with Lifeguard's refinements.
//
// Protocol (Das, Gupta, Motivala, "SWIM", DSN 2002; Dadgar et al., "Lifeguard", 2018):
//   * Every protocol period (probe_interval × local-health multiplier) the node pings one member,
//     chosen by randomised round-robin (a shuffled pass over all live members; members that join
//     mid-pass are inserted at a random later position), so every member is probed within two
//     passes. If no ack arrives within probe_timeout (× multiplier) it asks k members to probe the
//     target for it (ping-req); they forward the ack, or a nack if the target stays silent.
//   * No ack by the end of the period: the target becomes *suspect* at its current incarnation.
//     The suspicion is gossiped and sent to the suspect directly; when it reaches the suspect, the
//     suspect refutes it by incrementing its incarnation and gossiping "alive" (see "Refutation
//     reaches the accusers" below). Unrefuted, the suspect is declared dead after Lifeguard's
//     dynamic timeout, which shrinks as independent confirmations arrive (lifeguard.h; a
//     suspicion seen in a push-pull full state is not an independent confirmation). Rules: alive@i beats suspect@j iff i > j; suspect@i beats alive@j iff i >= j;
//     dead/left@i beats alive and suspect @j iff i >= j; dead and left are final for that
//     incarnation.
//   * Local health (Lifeguard LHM): a failed probe with missing nacks raises the node's own health
//     score, refuting a suspicion about itself raises it, a successful probe lowers it; the probe
//     interval and timeout are scaled by (score + 1), so an unhealthy node accuses more slowly.
//   * Dissemination: updates are piggybacked on every message sent and, as in HashiCorp
//     memberlist, also gossiped on a dedicated timer: every gossip_interval (200 ms) the node sends
//     the queued updates to gossip_fanout (3) random live members (suspects included, so they hear
//     accusations). Every copy counts against the update's budget of retransmit_mult·⌈log10(N+1)⌉
//     transmits (broadcast_queue.h: own claims first, then suspect/dead/left, then alive; fewest
//     sent first), packed up to the message size limit. The timer only speeds dissemination up
//     (an update is out in a few hundred ms instead of a few probe periods); it adds no copies.
//   * Refutation reaches the accusers (closing the loop the bounded gossip leaves open): every
//     message to a member we suspect carries our suspicion of it (Lifeguard's "buddy system",
//     extended from pings to all messages); a holder of a suspicion re-sends it to the suspect every
//     probe_interval after the first (a "reminder", at most kMaxSuspicionRemindersPerPeriod);
//     a suspect that refutes tells refutation_fanout random members at once besides queueing it;
//     and any message carrying a claim about us older than our incarnation (its sender still
//     suspects us: every copy of our refutation missed it) is answered directly with our alive
//     record. So a member that missed the refutation's gossip hears it from the suspect itself
//     within about a period per round trip, long before its suspicion timeout (docs/membership.md
//     has the arithmetic: at N = 50 and 10% loss, P(a given member declares a refuting live member
//     dead) <= 2e-7 per suspicion even at the minimum timeout, and far less at the usual one).
//   * Anti-entropy: every push_pull_interval a full state exchange with one random live member,
//     plus one random dead (not left) tombstone to reconnect healed partitions. In a push-pull
//     merge a remote "dead" only makes the member suspect (so it can refute), as in memberlist.
//     And a message from a member we have never heard of (its joining gossip missed us, and so
//     did our own push-pulls: one dropped request is 30 s) makes us ask that sender for its full
//     state at once, at most once per probe_interval; members that know us probe us, so a gap in
//     our view closes within a few periods (membership seed 11577049397366032185: both of a
//     node's push-pulls were lost and it never learned three members in 58 s).
//   * Join: push-pull with each seed, retried every join_retry_interval while no other member is
//     known, and gossip our own alive record (as memberlist does on start). Leave: gossip "left" at a higher incarnation, sent directly to a few members and
//     piggybacked; afterwards the node only answers pings.
//   * Dead and left members stay as tombstones for tombstone_ttl, then are forgotten. A restarted
//     node (new process, possibly a new address) reclaims its id: it either starts at a new
//     generation (`initial_incarnation`, e.g. a boot counter) or, hearing that it is
//     dead/suspect at incarnation i, refutes with i + 1; "alive" at a higher incarnation revives a
//     dead member (event kJoined) and updates its address.
//   * Phi accrual: every member's record has a PhiAccrualDetector fed by every message received
//     from it. It does NOT accuse (SWIM's probe/suspicion path decides; probe traffic between two
//     given members is too irregular for a sole phi verdict); it is exposed as a per-member signal
//     (`Phi`) and used to prefer responsive members as ping-req relays.
//
// Driving it (the etcd/raft shape; a fiber driver stays thin):
//   Swim swim(self_id, "10.0.0.1:7000", {}, SwimConfig{}, random, clock.MonotonicNow());
//   swim.Join(seed_ids, now);
//   loop: on a datagram: swim.Receive(from, bytes, now);  at swim.NextTickTime(): swim.Tick(now);
//         after either: send every TakeOutbox() entry (to → address via the member table or the
//         seed list); hand TakeEvents() to the node host.
// Messages may be lost, duplicated, delayed or reordered; the core tolerates all of it.
//
// Thread safety: none; one Swim belongs to one node's event loop. Deterministic: same inputs and
// same Random seed give the same outputs (only ordered containers; no clock, no I/O).
#ifndef CREMA_NODE_MEMBERSHIP_SWIM_H_
#define CREMA_NODE_MEMBERSHIP_SWIM_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/container/btree_set.h"
#include "absl/status/status.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "node/membership/broadcast_queue.h"
#include "node/membership/clock_monitor.h"
#include "node/membership/codec.h"
#include "node/membership/lifeguard.h"
#include "node/membership/phi_accrual.h"
#include "node/membership/types.h"
#include "node/random.h"

namespace crema::membership {

inline constexpr size_t kMaxMembers = 4096;             // member table, tombstones included
inline constexpr size_t kMaxSeeds = 64;
inline constexpr size_t kMaxRelayedProbes = 256;        // ping-reqs this node is serving
inline constexpr size_t kMaxPendingBroadcasts = 2 * kMaxMembers;
inline constexpr size_t kMaxOutboxMessages = 4096;      // driver must drain after each call
inline constexpr size_t kMaxPendingEvents = 4 * kMaxMembers;
inline constexpr size_t kMaxSuspicionRemindersPerPeriod = 4;  // suspects reminded per period
inline constexpr size_t kMaxPendingClockSamples = 64;  // driver must drain after each call

struct SwimConfig {
  absl::Duration probe_interval = absl::Seconds(1);
  absl::Duration probe_timeout = absl::Milliseconds(500);  // REQUIRES: < probe_interval
  int indirect_probes = 3;                                  // k
  int retransmit_mult = 4;                                  // λ
  int suspicion_mult = 4;       // min suspicion = mult · max(1, log10 N) · probe_interval
  int suspicion_max_mult = 6;   // max suspicion = max_mult · min
  int max_health_score = 8;     // LHM multiplier is score + 1
  // Gossip timer (memberlist's GossipInterval / GossipNodes). Zero interval or fanout disables it
  // (piggyback-only dissemination, as in the SWIM paper).
  absl::Duration gossip_interval = absl::Milliseconds(200);
  int gossip_fanout = 3;
  int refutation_fanout = 3;    // members told a refutation directly, at once
  absl::Duration push_pull_interval = absl::Seconds(30);
  absl::Duration join_retry_interval = absl::Seconds(1);
  absl::Duration tombstone_ttl = absl::Minutes(5);
  int leave_fanout = 4;         // members told directly on Leave
  size_t max_message_bytes = kMaxMembershipMessageBytes;  // REQUIRES: <= kMaxMembershipMessageBytes
  Incarnation initial_incarnation = 0;          // a generation for restarts, if the driver has one
  PhiAccrualConfig phi;
};

struct OutgoingMessage {
  NodeId to = kNoNode;
  std::string bytes;
};

struct SwimStats {
  uint64_t messages_sent = 0;
  uint64_t bytes_sent = 0;
  uint64_t messages_received = 0;
  uint64_t messages_rejected = 0;  // undecodable, misaddressed or spoofed
  uint64_t probes_started = 0;
  uint64_t probes_failed = 0;
  uint64_t ping_reqs_sent = 0;
  uint64_t nacks_received = 0;
  uint64_t suspicions_started = 0;
  uint64_t refutations = 0;
  uint64_t unknown_sender_pulls = 0;  // push-pulls asked of a sender we did not know
  uint64_t push_pulls_sent = 0;
  uint64_t gossip_messages_sent = 0;     // by the gossip timer
  uint64_t suspicion_reminders_sent = 0;
  uint64_t refutation_replies_sent = 0;  // stale accusations answered to their sender
  uint64_t clock_samples = 0;            // acks that carried the target's wall clock
  uint64_t dropped = 0;  // outbox, event, relay or member-table overflow
};

class Swim {
 public:
  // REQUIRES: self != kNoNode; address and metadata within the bounds of types.h.
  Swim(NodeId self, std::string address, Metadata metadata, SwimConfig config, Random& random,
       absl::Time now);
  Swim(const Swim&) = delete;
  Swim& operator=(const Swim&) = delete;

  // Starts (or restarts) joining through `seeds` (node ids; self is ignored).
  void Join(absl::Span<const NodeId> seeds, absl::Time now);

  // Sends a full-state push-pull to `id` (e.g. a seed the driver no longer sees in its view, so
  // that two sides that forgot each other after a long partition find each other again).
  // Does not change the seed list. A no-op for self, kNoNode, or after Leave.
  void Reconnect(NodeId id);

  // Announces a graceful leave. Afterwards the node stops probing but still answers pings.
  void Leave(absl::Time now);

  // Publishes new metadata (bumps the incarnation). Errors if it exceeds the bounds.
  [[nodiscard]] absl::Status UpdateMetadata(Metadata metadata, absl::Time now);

  // Advances timers: probes, ping-req fallbacks, nacks, gossip, suspicion reminders and
  // timeouts, tombstones, push-pull and join retries. REQUIRES: `now` never decreases across calls.
  void Tick(absl::Time now);

  // Handles one datagram from `from`. Bad input returns an error and changes nothing else.
  // `wall_now`: this node's wall clock at the same instant as `now`, if the driver measures clock
  // offsets; then acks to direct pings carry it, and an ack to our own direct probe that carries
  // the target's yields a ClockSample (clock_monitor.h has the arithmetic; TakeClockSamples).
  absl::Status Receive(NodeId from, std::string_view bytes, absl::Time now,
                       std::optional<absl::Time> wall_now = std::nullopt);

  // The earliest time at which Tick has something to do.
  absl::Time NextTickTime() const;

  std::vector<OutgoingMessage> TakeOutbox();
  std::vector<MembershipEvent> TakeEvents();
  // Clock-offset samples from acks since the last call (at most one per Receive).
  std::vector<ClockSample> TakeClockSamples();

  // Views. Members() lists self first, then the table (tombstones included) in id order.
  NodeId self_id() const { return self_.id; }
  const Member& self() const { return self_; }
  const Member* Find(NodeId id) const;
  std::vector<Member> Members() const;
  std::vector<NodeId> LiveMemberIds() const;  // self included, sorted
  size_t LiveCount() const { return live_ids_.size() + 1; }
  double Phi(NodeId id, absl::Time now) const;  // 0 for unknown members
  int health_score() const { return health_.score(); }
  bool has_left() const { return leaving_; }
  const SwimStats& stats() const { return stats_; }
  int RetransmitLimit() const;
  // The suspicion timeout currently applying to suspect `id`, if it is suspect.
  std::optional<absl::Duration> SuspicionTimeoutOf(NodeId id) const;
  size_t pending_broadcasts() const { return broadcasts_.size(); }

 private:
  struct Record {
    Member member;
    absl::Time state_since;
    // Suspicion (state kSuspect only).
    NodeId first_accuser = kNoNode;
    absl::btree_set<NodeId> confirmers;  // distinct accusers other than the first
    absl::Duration suspicion_min;
    absl::Duration suspicion_max;
    int expected_confirmations = 0;
    PhiAccrualDetector phi;
  };
  struct Probe {
    NodeId target = kNoNode;
    uint64_t seq = 0;
    absl::Time sent_at;     // the direct ping (monotonic): bounds a clock sample's round trip
    absl::Time timeout_at;  // ping-req fallback
    absl::Time period_end;  // failure if not acked by then
    bool ping_reqs_sent = false;
    int expected_nacks = 0;
    int nacks = 0;
  };
  struct Relay {
    NodeId requester = kNoNode;
    uint64_t requester_seq = 0;
    NodeId target = kNoNode;
    absl::Time nack_at;
  };

  // swim.cc: probing, timers, message handling.
  void StartProbe(absl::Time now);
  void FinishFailedProbe(absl::Time now);
  void SendPingReqs(absl::Time now);
  void AttachSuspicionOfRecipient(Message& message) const;
  std::optional<NodeId> NextProbeTarget();
  void HandleMessage(const Message& message, absl::Time now);
  void HandleAck(const Message& message, absl::Time now);
  void HandlePingReq(const Message& message, absl::Time now);
  void ExpireRelays(absl::Time now);
  void ExpireSuspicions(absl::Time now);
  void ExpireTombstones(absl::Time now);
  void MaybePushPull(absl::Time now);
  void MaybeRetryJoin(absl::Time now);
  // Sends `message` (from = self). Unless it is a push-pull: attaches our suspicion of the
  // recipient if we suspect it, then (if `piggyback`) fills it with queued updates. An empty
  // kGossip is not sent.
  void Send(Message message, bool piggyback = true);
  void SendSelfTo(NodeId to);  // a kGossip carrying our own current record

  // swim_gossip.cc: the gossip timer, suspicion reminders, eager refutation.
  void GossipRound();
  void RemindSuspects(absl::Time now);
  void SendRefutationEagerly();
  bool GossipEnabled() const;
  void SendPushPull(NodeId to, bool is_reply);
  std::vector<NodeId> RandomLiveMembers(size_t count, NodeId exclude);

  // swim_state.cc: the member table and the incarnation rules.
  void ApplyUpdate(const MemberUpdate& update, absl::Time now);
  void MergeRemoteState(const Message& message, absl::Time now);
  // Called for a suspect/dead claim about ourselves: refute it if it is current, else answer the
  // sender (it still believes the stale claim) with our alive record.
  // Returns true if the claim was current (we refuted it now).
  bool OnClaimAboutSelf(Incarnation claimed, absl::Time now);
  void ApplyAlive(const MemberUpdate& update, absl::Time now);
  void ApplySuspect(const MemberUpdate& update, absl::Time now);
  void ApplyGone(const MemberUpdate& update, absl::Time now);  // dead or left
  void StartSuspicion(Record& record, NodeId accuser, absl::Time now);
  void SetState(Record& record, MemberState state, absl::Time now);
  void Refute(Incarnation seen, absl::Time now);
  void RegossipRefutation();
  void Gossip(const Member& member, NodeId accuser);
  void Emit(MembershipEventKind kind, const Member& member);
  void AddToProbeOrder(NodeId id);
  void AddLiveId(NodeId id);
  void RemoveLiveId(NodeId id);
  Record* FindRecord(NodeId id);
  absl::Time SuspicionDeadline(const Record& record) const;

  // NextTickTime's scan of the member table, cached (the driver asks after every datagram, and
  // the scan is O(members)): the earliest suspicion deadline or tombstone expiry, and whether any
  // member is suspect. Every change to a record's state, suspicion or existence (SetState,
  // StartSuspicion, a confirmation, insert, erase) calls MemberTimersChanged().
  struct MemberTimers {
    absl::Time earliest = absl::InfiniteFuture();
    bool any_suspect = false;
    friend bool operator==(const MemberTimers&, const MemberTimers&) = default;
  };
  MemberTimers ScanMemberTimers() const;
  const MemberTimers& CachedMemberTimers() const;
  void MemberTimersChanged() { member_timers_.reset(); }

  SwimConfig config_;
  Random& random_;
  Member self_;
  bool leaving_ = false;
  absl::btree_map<NodeId, Record> members_;  // others only
  // Ids of the alive or suspect entries in members_, ascending (gossip and relay targets are
  // drawn from it without walking the table).
  std::vector<NodeId> live_ids_;
  LocalHealth health_;
  BroadcastQueue broadcasts_;

  std::vector<NodeId> probe_order_;
  size_t probe_index_ = 0;
  std::optional<Probe> probe_;
  absl::Time next_probe_at_;
  absl::Time next_gossip_at_;
  absl::Time next_reminder_at_;  // suspicion reminders, every probe_interval while any suspect
  // While a message is handled: its sender, and whether it carried a stale claim about us (then
  // we answer the sender with our alive record after applying its updates).
  NodeId handling_from_ = kNoNode;
  bool answer_sender_with_self_ = false;
  uint64_t next_seq_ = 1;
  absl::btree_map<uint64_t, Relay> relays_;  // by the seq of our ping to the target

  std::vector<NodeId> seeds_;
  absl::Time next_join_at_ = absl::InfiniteFuture();
  absl::Time next_push_pull_at_;
  // A message from a member we do not know at all asks it for its full state (push-pull), at most
  // once per probe_interval: see "Anti-entropy" above.
  absl::Time next_unknown_sender_pull_at_ = absl::InfinitePast();
  absl::Time last_now_;

  mutable std::optional<MemberTimers> member_timers_;

  std::vector<OutgoingMessage> outbox_;
  std::vector<MembershipEvent> events_;
  std::optional<absl::Time> wall_now_;  // Receive's wall_now, while it runs
  std::vector<ClockSample> clock_samples_;
  SwimStats stats_;
};

}  // namespace crema::membership

#endif  // CREMA_NODE_MEMBERSHIP_SWIM_H_
