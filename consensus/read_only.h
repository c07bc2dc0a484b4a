// ReadOnly: leader-side bookkeeping for linearizable reads (ReadIndex, thesis §6.4) and leases.
//
// The leader numbers its heartbeat broadcasts ("rounds"). A follower echoes the round in
// MsgHeartbeatResp. A ReadIndex request records the commit index when it arrives and is
// attached to the *next* round; once a quorum has acknowledged that round, the leader was still
// leader after the request arrived, so the recorded index is a safe read point. Many requests
// share one round (batching).
//
// For leases, the send time of each recent round is kept; the lease starts at the send time of
// the latest round a quorum acknowledged (see Config::lease_based_reads).
//
// Bounds: at most kMaxTrackedRounds send times; requests bounded by the caller
// (Config::max_pending_reads).
#ifndef CREMA_CONSENSUS_READ_ONLY_H_
#define CREMA_CONSENSUS_READ_ONLY_H_

#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/time/time.h"
#include "consensus/types.h"

namespace crema::raft {

inline constexpr size_t kMaxTrackedRounds = 1024;

struct ReadRequest {
  std::string context;
  ReplicaId from = kNoReplica;  // who asked (the leader itself or a follower)
  Index index = 0;              // commit index when the request arrived
  uint64_t round = 0;           // heartbeat round that confirms it
};

class ReadOnly {
 public:
  // Queues a request confirmed by the next round; returns that round.
  uint64_t Add(std::string context, ReplicaId from, Index index);
  // True if requests are waiting for a round that has not been sent yet.
  bool NeedsRound() const { return needs_round_; }
  // Records a new round sent at `now` and returns its number.
  uint64_t StartRound(absl::Time now);
  uint64_t current_round() const { return current_round_; }
  // A quorum has acknowledged `round`: returns every request it confirms, in arrival order, and
  // records the lease start.
  std::vector<ReadRequest> Confirm(uint64_t round);
  // Send time of the latest quorum-acknowledged round (InfinitePast if none).
  absl::Time lease_start() const { return lease_start_; }
  // Rounds sent before now do not count for the lease any more (leadership transfer).
  void InvalidateLease() { lease_floor_round_ = current_round_; lease_start_ = absl::InfinitePast(); }
  // No round of this term counts for the lease any more (a MsgTimeoutNow was sent).
  void RevokeLease() { lease_floor_round_ = UINT64_MAX; lease_start_ = absl::InfinitePast(); }
  size_t pending() const { return requests_.size(); }
  // Leader lost: drops everything and returns the dropped requests.
  std::vector<ReadRequest> Reset();

 private:
  std::deque<ReadRequest> requests_;
  absl::btree_map<uint64_t, absl::Time> round_sent_at_;
  uint64_t current_round_ = 0;
  uint64_t confirmed_round_ = 0;
  uint64_t lease_floor_round_ = 0;
  bool needs_round_ = false;
  absl::Time lease_start_ = absl::InfinitePast();
};

}  // namespace crema::raft

#endif  // CREMA_CONSENSUS_READ_ONLY_H_
