#include "node/metrics/crema_metrics.h"

#include "absl/strings/str_cat.h"

namespace crema::metrics {

const char* OutcomeOf(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kOk: return "ok";
    case absl::StatusCode::kInvalidArgument: return "invalid";
    case absl::StatusCode::kFailedPrecondition: return "precondition";
    case absl::StatusCode::kResourceExhausted: return "overloaded";
    case absl::StatusCode::kUnavailable: return "unavailable";
    case absl::StatusCode::kDeadlineExceeded: return "timeout";
    case absl::StatusCode::kPermissionDenied:
    case absl::StatusCode::kUnauthenticated: return "denied";
    case absl::StatusCode::kNotFound: return "not_found";
    default: return "error";
  }
}

FrontEndMetrics::FrontEndMetrics(MetricsRegistry* r)
    : requests_total(r->AddCounter("crema_requests_total",
                                   "Client requests served, by protocol, command and outcome.")),
      request_duration_seconds(r->AddHistogram(
          "crema_request_duration_seconds",
          "Time from a request's arrival to its reply being ready, by protocol and command.")),
      connections(r->AddGauge("crema_connections", "Open client connections, by protocol.")),
      connections_total(
          r->AddCounter("crema_connections_total", "Client connections accepted, by protocol.")),
      connections_rejected(r->AddCounter(
          "crema_connections_rejected_total",
          "Client connections refused or closed by a limit, by protocol and reason.")),
      protocol_errors(r->AddCounter("crema_protocol_errors_total",
                                    "Malformed client requests, by protocol.")),
      build_info(r->AddGauge("crema_build_info", "Always 1; the version is a label.")),
      node_ready(r->AddGauge("crema_node_ready", "1 when this node can serve requests.").With({})),
      data_dir_free_bytes(r->AddGauge("crema_data_dir_free_bytes",
                                      "Bytes available on the data directory's file system.")
                              .With({})),
      data_dir_size_bytes(r->AddGauge("crema_data_dir_size_bytes",
                                      "Size in bytes of the data directory's file system.")
                              .With({})) {}

Counter FrontEndMetrics::Requests(std::string_view protocol, std::string_view command,
                                  std::string_view outcome) {
  return requests_total.With({{"protocol", std::string(protocol)},
                              {"command", std::string(command)},
                              {"outcome", std::string(outcome)}});
}

Histogram FrontEndMetrics::Latency(std::string_view protocol, std::string_view command) {
  return request_duration_seconds.With(
      {{"protocol", std::string(protocol)}, {"command", std::string(command)}});
}

PeerTransportMetrics::PeerTransportMetrics(MetricsRegistry* r)
    : messages(r->AddCounter("crema_peer_messages_total",
                             "Messages to and from other nodes, by direction (sent = queued).")),
      dropped(r->AddCounter("crema_peer_messages_dropped_total",
                            "Messages to other nodes dropped before the wire, by reason.")),
      connections(r->AddCounter(
          "crema_peer_connection_events_total",
          "Peer connection events: connected, accepted, connect_failed, handshake_failed, "
          "disconnected, bad_frame, bad_tag, rejected, evicted.")),
      link_state(r->AddGauge("crema_peer_link_state",
                             "This node's outgoing link to each peer: 1 for its state (connected, "
                             "handshaking, dialing, backoff, idle), 0 for the others.")),
      queued(r->AddGauge("crema_peer_queued_messages",
                         "Messages waiting in this node's send queue to each peer.")) {}

void PeerTransportMetrics::SetTotal(CounterFamily& family, const Labels& labels, uint64_t total) {
  Counter c = family.With(labels);
  const double grow = static_cast<double>(total) - c.value();
  if (grow > 0) c.Inc(grow);
}

NodeMetrics::NodeMetrics(MetricsRegistry* r)
    : forward_requests(r->AddCounter("crema_forward_requests_total",
                                     "Requests forwarded to a shard leader, by outcome.")),
      forward_seconds(r->AddHistogram("crema_forward_duration_seconds",
                                       "Round trip of a forwarded request.")
                          .With({})),
      raft_proposals(
          r->AddCounter("crema_raft_proposals_total", "Entries proposed by this node's leaders.")
              .With({})),
      raft_commits(r->AddCounter("crema_raft_committed_entries_total",
                                 "Entries committed in this node's groups.")
                       .With({})),
      raft_elections(r->AddCounter("crema_raft_elections_total",
                                   "Elections started by this node's replicas.")
                         .With({})),
      raft_leader_changes(r->AddCounter("crema_raft_leader_changes_total",
                                        "Leader changes observed by this node's replicas.")
                              .With({})),
      raft_snapshots(r->AddCounter("crema_raft_snapshot_transfers_total",
                                   "Snapshots sent or received, by direction.")),
      raft_apply_lag(r->AddGauge("crema_raft_apply_lag_entries",
                                 "Committed but not yet applied entries, by shard.")),
      shard_has_leader(r->AddGauge("crema_shard_has_leader",
                                   "1 if this node knows a leader for the shard.")),
      shard_is_leader(
          r->AddGauge("crema_shard_is_leader", "1 if this node leads the shard.")),
      raft_groups(r->AddGauge("crema_raft_groups", "Raft groups (replicas) hosted by this node.")
                      .With({})),
      cluster_map_version(
          r->AddGauge("crema_cluster_map_version", "Version of the cluster map this node holds.")
              .With({})),
      fsync_seconds(r->AddHistogram("crema_disk_fsync_duration_seconds",
                                    "Duration of one log sync (fsync).")
                        .With({})),
      members(r->AddGauge("crema_membership_members",
                          "Cluster members as this node's gossip sees them, by state.")),
      phi(r->AddGauge("crema_membership_phi", "Phi-accrual suspicion of each peer.")),
      clock_offset_median(
          r->AddGauge("crema_clock_offset_median_seconds",
                      "This node's wall clock minus its median peer's (estimated from SWIM acks).")
              .With({})),
      clock_offset_max(r->AddGauge("crema_clock_offset_max_seconds",
                                   "The estimated wall-clock offset to a peer of largest "
                                   "magnitude (ours minus theirs).")
                           .With({})),
      clock_out_of_bound(r->AddGauge("crema_clock_out_of_bound",
                                     "1 while this node's wall clock is beyond max_clock_skew to "
                                     "a majority of its peers (it refuses TTL-dependent work).")
                             .With({})),
      clock_refusals(r->AddCounter("crema_clock_refusals_total",
                                   "Requests refused because this node's clock is out of bound.")
                         .With({})),
      cache_hits(r->AddCounter("crema_cache_hits_total", "Cache reads that found the key.")
                     .With({})),
      cache_misses(r->AddCounter("crema_cache_misses_total", "Cache reads that missed.")
                       .With({})),
      cache_evictions(
          r->AddCounter("crema_cache_evictions_total", "Entries evicted for capacity.").With({})),
      cache_expirations(
          r->AddCounter("crema_cache_expirations_total", "Entries removed at expiry.").With({})),
      cache_entries(r->AddGauge("crema_cache_entries", "Entries held by this node's replicas.")
                        .With({})),
      cache_bytes(r->AddGauge("crema_cache_bytes",
                              "Bytes (keys, values, per-entry overhead) held by this node's "
                              "replicas.")
                      .With({})) {}

Gauge NodeMetrics::ShardHasLeader(uint32_t shard) {
  return shard_has_leader.With({{"shard", absl::StrCat(shard)}});
}
Gauge NodeMetrics::ShardIsLeader(uint32_t shard) {
  return shard_is_leader.With({{"shard", absl::StrCat(shard)}});
}
Gauge NodeMetrics::ApplyLag(uint32_t shard) {
  return raft_apply_lag.With({{"shard", absl::StrCat(shard)}});
}
Gauge NodeMetrics::Phi(uint64_t peer) { return phi.With({{"peer", absl::StrCat(peer)}}); }
Gauge NodeMetrics::Members(std::string_view state) {
  return members.With({{"state", std::string(state)}});
}

}  // namespace crema::metrics
