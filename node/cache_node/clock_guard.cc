// CacheNode, the clock guard: what a node does while its wall clock is out of the skew bound
// (membership::ClockMonitor decides; node/membership/clock_monitor.h).
//
// What depends on a node's wall clock (cache/replicated/cache_state_machine.h):
//   * As a shard leader, the stamp on every command it proposes. Log time is the running maximum
//     of stamps, so ONE stamp from a clock that runs ahead moves every later TTL deadline of the
//     shard late by that much, for as long as it takes real time to catch up — whatever the
//     command (a write without a TTL advances log time as much as one with). A clock behind makes
//     log time stand still and TTLs end early.
//   * As a reader (local or linearizable: both read this replica), the expiry judgement of
//     entries with a deadline: a clock behind returns values past their deadline.
// So while out of bound the node:
//   * refuses client writes on shards it leads (UNAVAILABLE, "CLUSTERDOWN clock out of bound:
//     ..." over RESP; refused before proposing, so nothing happened), and hands each such
//     leadership to an available, caught-up voter whose clock is not advertised out of bound —
//     the shard is unavailable only for a transfer, not for as long as the clock is wrong;
//   * proposes no expiry ticks, and stamps evictions with the shard's log time (an eviction does
//     not depend on time, and must not move it);
//   * refuses reads of entries that have a deadline (entries without one are served: their
//     answer does not depend on any clock);
//   * gossips "clock=out" in its SWIM metadata, so other leaders do not balance leadership to it.
// Why not stop the process (CockroachDB's choice)? A cache node also serves reads of entries
// without TTLs, forwards, and replicates as a follower — none of which needs its wall clock —
// and a process exit would turn one bad clock into a replica lost to every shard it holds.
// Why not keep leading and stamp with the log time instead? Log time lags real time on an idle
// shard, so `SET k v EX 10` could be stored already expired; refusing and moving the leadership
// is simpler to reason about and costs one transfer.
#include "absl/strings/str_cat.h"
#include "node/cache_node/cache_node.h"

namespace crema {
namespace {

constexpr char kClockMetadataKey[] = "clock";
constexpr char kClockOut[] = "out";

}  // namespace

bool CacheNode::ClockOutOfBound() const {
  return options_.monitor_clock && membership_ != nullptr && membership_->ClockOutOfBound();
}

bool CacheNode::ClockOutOfBound(absl::Time mono, absl::Time wall) const {
  return options_.monitor_clock && membership_ != nullptr &&
         membership_->ClockOutOfBound(mono, wall);
}

absl::Status CacheNode::ClockRefusal() {
  ++stats_.clock_refusals;
  if (options_.metrics != nullptr) options_.metrics->clock_refusals.Inc();
  return absl::UnavailableError(membership_->DescribeClock());
}

void CacheNode::OnClockTransition(const membership::ClockStatus& status,
                                  const std::string& description) {
  membership::Metadata metadata = membership_->self_member().metadata;
  if (status.out_of_bound) {
    metadata[kClockMetadataKey] = kClockOut;
  } else {
    metadata.erase(kClockMetadataKey);
  }
  // Best effort: the metadata only steers other nodes' leadership balancing.
  (void)membership_->UpdateMetadata(std::move(metadata));
  last_full_pass_ = absl::InfinitePast();  // visit every led shard at the next maintenance pass
  if (options_.on_clock_transition) options_.on_clock_transition(status.out_of_bound, description);
}

bool CacheNode::PeerClockOut(NodeId node) const {
  if (node == env_.self) return ClockOutOfBound();
  std::optional<membership::Member> member = membership_->Find(node);
  if (!member.has_value()) return false;
  auto it = member->metadata.find(kClockMetadataKey);
  return it != member->metadata.end() && it->second == kClockOut;
}

bool CacheNode::HandOffForClock(raft::GroupId group, Hosted& h) {
  const raft::Raft& core = h.driver->core();
  for (raft::ReplicaId r : core.conf().voters) {
    const NodeId node = raft::NodeOfReplica(r);
    if (r == core.id() || !PeerAvailable(node) || PeerClockOut(node)) continue;
    auto p = core.progress().find(r);
    if (p == core.progress().end() || p->second.match < core.commit()) continue;
    (void)h.driver->TransferLeadership(r);
    ++stats_.clock_handoffs;
    env_.tracer->Record("cache.clock_handoff", absl::StrCat("group ", group, " to n", node));
    return true;
  }
  return false;
}

}  // namespace crema
