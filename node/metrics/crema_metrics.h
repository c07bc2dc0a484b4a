// The metrics Crema exposes, by name, in one place: what the dashboards and alert rules in
// tools/deploy/ are written against. Two groups:
//   * FrontEndMetrics — recorded by the RESP/HTTP front ends (transport/).
//   * NodeMetrics — recorded by node logic (forwarding, Raft, storage, membership, cache). The
//     cache node owns one and records into it; gauges that are cheaper to read than to track
//     (entries, bytes, members by state, phi, apply lag) are refreshed in a collect hook.
//
// Example (node side):
//   metrics::NodeMetrics m(&registry);
//   m.raft_proposals.Inc();
//   m.fsync_seconds.ObserveDuration(clock.MonotonicNow() - start);
//   m.ShardHasLeader(shard).Set(1);
//   registry.AddCollectHook([&] { m.cache_entries.Set(EntriesOnThisNode()); ... });
//
// Label sets are bounded: commands (the command table), outcomes (a fixed list), shard ids
// (num_shards), peer ids (cluster size). Keys and client addresses never become labels.
// Thread safety: as MetricsRegistry.
#ifndef CREMA_NODE_METRICS_CREMA_METRICS_H_
#define CREMA_NODE_METRICS_CREMA_METRICS_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "node/metrics/metrics.h"

namespace crema::metrics {

// The `outcome` label of a request: "ok", or the error class a status maps to.
// ok | invalid | precondition | overloaded | unavailable | timeout | denied | not_found | error
// Each is a static string, the same address every time (callers may key on the pointer).
const char* OutcomeOf(const absl::Status& status);

struct FrontEndMetrics {
  explicit FrontEndMetrics(MetricsRegistry* registry);

  // crema_requests_total{protocol, command, outcome}
  Counter Requests(std::string_view protocol, std::string_view command, std::string_view outcome);
  // crema_request_duration_seconds{protocol, command}
  Histogram Latency(std::string_view protocol, std::string_view command);

  CounterFamily& requests_total;
  HistogramFamily& request_duration_seconds;
  GaugeFamily& connections;               // crema_connections{protocol}
  CounterFamily& connections_total;       // crema_connections_total{protocol}
  CounterFamily& connections_rejected;    // crema_connections_rejected_total{protocol, reason}
  CounterFamily& protocol_errors;         // crema_protocol_errors_total{protocol}
  GaugeFamily& build_info;                // crema_build_info{version} 1
  Gauge node_ready;                       // crema_node_ready 0/1
  Gauge data_dir_free_bytes;              // crema_data_dir_free_bytes
  Gauge data_dir_size_bytes;              // crema_data_dir_size_bytes
};

// Peer (node-to-node) transport, refreshed from the transport's counters at each scrape.
struct PeerTransportMetrics {
  explicit PeerTransportMetrics(MetricsRegistry* registry);
  // Sets the exported counters to these totals (they only grow: a smaller value is ignored).
  void SetTotal(CounterFamily& family, const Labels& labels, uint64_t total);

  CounterFamily& messages;     // crema_peer_messages_total{direction=sent|received}
  CounterFamily& dropped;      // crema_peer_messages_dropped_total{reason}
  CounterFamily& connections;  // crema_peer_connection_events_total{event}
  GaugeFamily& link_state;     // crema_peer_link_state{peer, state} 1 for the link's state
  GaugeFamily& queued;         // crema_peer_queued_messages{peer}
};

struct NodeMetrics {
  explicit NodeMetrics(MetricsRegistry* registry);

  // Forwarding to shard leaders: crema_forward_requests_total{outcome},
  // crema_forward_duration_seconds.
  CounterFamily& forward_requests;
  Histogram forward_seconds;

  // Raft, summed over this node's groups.
  Counter raft_proposals;          // crema_raft_proposals_total
  Counter raft_commits;            // crema_raft_committed_entries_total
  Counter raft_elections;          // crema_raft_elections_total (campaigns started)
  Counter raft_leader_changes;     // crema_raft_leader_changes_total (as observed here)
  CounterFamily& raft_snapshots;   // crema_raft_snapshot_transfers_total{direction=sent|received}
  GaugeFamily& raft_apply_lag;     // crema_raft_apply_lag_entries{shard}
  GaugeFamily& shard_has_leader;   // crema_shard_has_leader{shard} 0/1 (as known here)
  GaugeFamily& shard_is_leader;    // crema_shard_is_leader{shard} 0/1 (this node leads it)
  Gauge raft_groups;               // crema_raft_groups (replicas hosted)
  Gauge cluster_map_version;       // crema_cluster_map_version
  Histogram fsync_seconds;         // crema_disk_fsync_duration_seconds

  // Membership as seen by this node.
  GaugeFamily& members;            // crema_membership_members{state=alive|suspect|dead|left}
  GaugeFamily& phi;                // crema_membership_phi{peer}
  // This node's wall clock against its peers' (node/membership/clock_monitor.h).
  Gauge clock_offset_median;       // crema_clock_offset_median_seconds (ours minus the median's)
  Gauge clock_offset_max;          // crema_clock_offset_max_seconds (largest magnitude, signed)
  Gauge clock_out_of_bound;        // crema_clock_out_of_bound 0/1
  Counter clock_refusals;          // crema_clock_refusals_total

  // Cache, over the replicas this node holds.
  Counter cache_hits;              // crema_cache_hits_total
  Counter cache_misses;            // crema_cache_misses_total
  Counter cache_evictions;         // crema_cache_evictions_total
  Counter cache_expirations;       // crema_cache_expirations_total
  Gauge cache_entries;             // crema_cache_entries
  Gauge cache_bytes;               // crema_cache_bytes

  Gauge ShardHasLeader(uint32_t shard);
  Gauge ShardIsLeader(uint32_t shard);
  Gauge ApplyLag(uint32_t shard);
  Gauge Phi(uint64_t peer);
  Gauge Members(std::string_view state);
};

}  // namespace crema::metrics

#endif  // CREMA_NODE_METRICS_CREMA_METRICS_H_
