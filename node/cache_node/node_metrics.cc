// node_metrics.cc: what the cache node records into metrics::NodeMetrics
// (node/metrics/crema_metrics.h) when CacheNodeOptions::metrics is set.
//
// Two ways a value gets there:
//   * at the event, from node code: forwarded attempts (origin.cc, CountForward), reads served
//     from a replica here (serving.cc, CountRead), each shared-log Sync's duration (the Raft
//     host's on_log_sync observer, set in cache_node.cc);
//   * at scrape time (RefreshMetrics, called from the registry's collect hook): the Raft
//     counters, as the growth of the host's RaftHostStats::groups since the last refresh; the
//     replicas' evictions and expirations, as the growth of each replica's LocalCache stats
//     (folded in one last time when a replica is destroyed); and every gauge.
//
// Contract: recording only writes metrics; nothing here is read back by node logic, so a
// simulated run is the same with or without metrics. Counters are monotonic across the node's
// life (RaftHost and replica stats restart from zero with a new host or replica: only growth is
// added). Series of shards no longer hosted here and of peers no longer known are removed.
#include <algorithm>
#include <string>

#include "absl/strings/str_cat.h"
#include "node/cache_node/cache_node.h"
#include "node/metrics/crema_metrics.h"

namespace crema {
namespace {

using forward::ReplyStatus;

const char* ForwardOutcome(const absl::StatusOr<forward::Reply>& reply) {
  if (!reply.ok()) return metrics::OutcomeOf(reply.status());
  switch (reply->status) {
    case ReplyStatus::kOk: return "ok";
    case ReplyStatus::kNotLeader: return "not_leader";
    case ReplyStatus::kUnknown: return "unknown";
    case ReplyStatus::kBusy: return "busy";
    case ReplyStatus::kNotHosted: return "not_hosted";
    case ReplyStatus::kError: return "error";
  }
  return "error";
}

// Adds `now - *last` to `counter` when the source grew, and remembers `now`. A source that went
// backwards restarted (a new host or cache): its whole value is new.
void AddGrowth(metrics::Counter& counter, uint64_t now, uint64_t* last) {
  counter.Inc(static_cast<double>(now >= *last ? now - *last : now));
  *last = now;
}

}  // namespace

void CacheNode::CountForward(const absl::StatusOr<forward::Reply>& reply, absl::Duration took) {
  metrics::NodeMetrics* m = options_.metrics;
  if (m == nullptr) return;
  m->forward_requests.With({{"outcome", ForwardOutcome(reply)}}).Inc();
  m->forward_seconds.ObserveDuration(took);
}

void CacheNode::CountRead(bool hit) {
  metrics::NodeMetrics* m = options_.metrics;
  if (m == nullptr) return;
  (hit ? m->cache_hits : m->cache_misses).Inc();
}

void CacheNode::FoldCacheStats(raft::GroupId group, const Hosted& hosted) {
  metrics::NodeMetrics* m = options_.metrics;
  if (m == nullptr || hosted.cache == nullptr) return;
  CacheStatsMark& mark = cache_marks_[group];
  if (mark.replica != hosted.cache.get()) mark = CacheStatsMark{.replica = hosted.cache.get()};
  const cache::CacheStats& st = hosted.cache->cache_stats();
  AddGrowth(m->cache_evictions, static_cast<uint64_t>(st.removals_size), &mark.evicted);
  AddGrowth(m->cache_expirations, static_cast<uint64_t>(st.removals_expired), &mark.expired);
}

void CacheNode::RefreshMetrics() {
  metrics::NodeMetrics* m = options_.metrics;
  if (m == nullptr || host_ == nullptr) return;
  // Raft counters: growth of the host's sums since the last refresh.
  const raft::GroupCounters& c = host_->stats().groups;
  raft::GroupCounters& last = raft_marks_;
  AddGrowth(m->raft_proposals, c.proposals, &last.proposals);
  AddGrowth(m->raft_commits, c.committed, &last.committed);
  AddGrowth(m->raft_elections, c.elections, &last.elections);
  AddGrowth(m->raft_leader_changes, c.leader_changes, &last.leader_changes);
  metrics::Counter sent = m->raft_snapshots.With({{"direction", "sent"}});
  metrics::Counter received = m->raft_snapshots.With({{"direction", "received"}});
  AddGrowth(sent, c.snapshots_sent, &last.snapshots_sent);
  AddGrowth(received, c.snapshots_received, &last.snapshots_received);

  // Per hosted shard: leader known / led here, apply lag; cache totals.
  absl::btree_set<uint32_t> shards;
  int64_t entries = 0;
  int64_t bytes = 0;
  for (const auto& [group, h] : hosted_) {
    if (group == cluster::kMetaGroup || h.cache == nullptr || h.destroying) continue;
    FoldCacheStats(group, h);
    entries += h.cache->size();
    bytes += h.cache->bytes();
    const uint32_t shard = cluster::ShardOfGroup(group);
    shards.insert(shard);
    const bool running = h.driver != nullptr && h.driver->has_core() && !h.driver->stopped();
    uint64_t lag = 0;
    bool has_leader = false;
    bool is_leader = false;
    if (running) {
      const raft::Raft& core = h.driver->core();
      has_leader = core.leader() != raft::kNoReplica;
      is_leader = core.role() == raft::Role::kLeader;
      lag = core.commit() > h.driver->applied() ? core.commit() - h.driver->applied() : 0;
      if (is_leader) {  // the leader also sees how far its slowest replica is behind
        for (const auto& [r, p] : core.progress()) {
          lag = std::max<uint64_t>(lag, core.commit() > p.match ? core.commit() - p.match : 0);
        }
      }
    }
    m->ShardHasLeader(shard).Set(has_leader ? 1 : 0);
    m->ShardIsLeader(shard).Set(is_leader ? 1 : 0);
    m->ApplyLag(shard).Set(static_cast<double>(lag));
  }
  for (uint32_t gone : labelled_shards_) {
    if (shards.contains(gone)) continue;
    const metrics::Labels labels{{"shard", absl::StrCat(gone)}};
    m->shard_has_leader.Remove(labels);
    m->shard_is_leader.Remove(labels);
    m->raft_apply_lag.Remove(labels);
  }
  labelled_shards_ = std::move(shards);
  for (auto it = cache_marks_.begin(); it != cache_marks_.end();) {
    it = hosted_.contains(it->first) ? std::next(it) : cache_marks_.erase(it);
  }
  m->cache_entries.Set(static_cast<double>(entries));
  m->cache_bytes.Set(static_cast<double>(bytes));
  m->raft_groups.Set(static_cast<double>(hosted_.size()));
  m->cluster_map_version.Set(static_cast<double>(map_.version));
  const membership::ClockStatus& clock = membership_->clock_status();
  m->clock_offset_median.Set(absl::ToDoubleSeconds(clock.median_offset));
  m->clock_offset_max.Set(absl::ToDoubleSeconds(clock.max_offset_seen));
  m->clock_out_of_bound.Set(ClockOutOfBound() ? 1 : 0);

  // Membership as this node's gossip sees it.
  absl::btree_map<std::string, int> by_state{{"alive", 0}, {"suspect", 0}, {"dead", 0},
                                             {"left", 0}};
  absl::btree_set<NodeId> peers;
  for (const membership::Member& member : membership_->Members()) {
    ++by_state[std::string(membership::MemberStateName(member.state))];
    if (member.id == env_.self) continue;
    peers.insert(member.id);
    m->Phi(member.id).Set(membership_->Health(member.id).phi);
  }
  for (const auto& [state, count] : by_state) m->Members(state).Set(count);
  for (NodeId gone : labelled_peers_) {
    if (!peers.contains(gone)) m->phi.Remove({{"peer", absl::StrCat(gone)}});
  }
  labelled_peers_ = std::move(peers);
}

}  // namespace crema
