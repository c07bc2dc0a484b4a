#include "transport/resp/info.h"

#include <type_traits>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "transport/resp/absl_view.h"

namespace crema::resp {

std::string ClientInfoLine(const Session& s, const ServerContext& server) {
  const absl::Time now = server.clock->MonotonicNow();
  return absl::StrCat("id=", s.id, " addr=", s.peer_address, " laddr=", s.local_address,
                      " name=", s.name, " age=", absl::ToInt64Seconds(now - s.created),
                      " idle=", absl::ToInt64Seconds(now - s.last_active), " db=0",
                      " cmd=", s.last_command.empty() ? "NULL" : s.last_command,
                      " resp=", s.resp_version, " user=", s.admin ? "admin" : "default",
                      " consistency=",
                      ReadConsistencyName(s.consistency.value_or(server.settings.default_read)));
}

void EncodeCommandInfo(const CommandSpec& spec, Encoder& out) {
  out.ArrayHeader(10);
  out.Bulk(spec.name);
  out.Integer(spec.arity);
  std::vector<std::string> flags;
  if (spec.flags & kWrite) flags.push_back("write");
  if (spec.flags & kReadOnly) flags.push_back("readonly");
  if (spec.flags & kNoAuth) flags.push_back("no_auth");
  if (spec.flags & kFast) flags.push_back("fast");
  if (spec.flags & kAdmin) flags.push_back("admin");
  out.SetHeader(flags.size());
  for (const std::string& f : flags) out.SimpleString(f);
  out.Integer(spec.first_key);
  out.Integer(spec.last_key);
  out.Integer(spec.key_step);
  for (int i = 0; i < 4; ++i) out.ArrayHeader(0);
}

std::string RenderInfo(const std::vector<std::string>& sections, CommandCall& call) {
  auto want = [&](std::string_view name) {
    if (sections.empty()) return true;
    for (const std::string& s : sections) {
      const std::string l = absl::AsciiStrToLower(s);
      if (l == name || l == "all" || l == "everything" || l == "default") return true;
    }
    return false;
  };
  const ServerContext& server = call.server;
  const absl::Time now = server.clock->MonotonicNow();
  std::string out;
  auto section = [&](std::string_view title) {
    if (!out.empty()) out += "\r\n";
    absl::StrAppend(&out, "# ", Av(title), "\r\n");
  };
  auto line = [&](std::string_view k, const auto& v) {
    if constexpr (std::is_convertible_v<decltype(v), std::string_view>) {
      absl::StrAppend(&out, Av(k), ":", Av(v), "\r\n");
    } else {
      absl::StrAppend(&out, Av(k), ":", v, "\r\n");
    }
  };
  if (want("server")) {
    section("Server");
    line("redis_version", kRedisCompatVersion);
    line("crema_version", server.settings.version);
    line("redis_mode", "standalone");
    line("node_id", server.settings.node_id);
    line("tcp_port", server.settings.resp_address.substr(
                         server.settings.resp_address.rfind(':') + 1));
    line("http_address", server.settings.http_address);
    line("uptime_in_seconds", absl::ToInt64Seconds(now - server.started));
  }
  if (want("clients")) {
    section("Clients");
    line("connected_clients", server.counters.connected_clients);
    line("maxclients", server.settings.max_clients);
  }
  if (want("memory")) {
    section("Memory");
    const std::optional<size_t> used =
        server.settings.used_memory ? server.settings.used_memory() : std::nullopt;
    if (used.has_value()) line("used_memory", *used);
    line("mem_allocator", server.settings.mem_allocator);
  }
  if (want("stats")) {
    section("Stats");
    line("total_connections_received", server.counters.connections_received);
    line("total_commands_processed", server.counters.commands_processed);
    line("rejected_connections", server.counters.connections_rejected);
    line("total_error_replies_protocol", server.counters.protocol_errors);
  }
  ClusterStatus status;
  const bool need_status = want("crema") || want("keyspace");
  if (need_status) status = server.api->Status();
  if (want("keyspace")) {
    section("Keyspace");
    int64_t keys = 0;
    for (const ShardStatus& s : status.shards) keys += s.entries;
    if (keys > 0) line("db0", absl::StrCat("keys=", keys, ",expires=0,avg_ttl=0"));
  }
  if (want("crema")) {
    section("Crema");
    line("node_id", status.self);
    line("ready", status.ready ? 1 : 0);
    line("map_version", status.map_version);
    line("num_shards", status.num_shards);
    line("replication_factor", status.replication_factor);
    line("meta_leader", status.meta_leader);
    line("clock_out_of_bound", status.clock.out_of_bound ? 1 : 0);
    line("clock_offset_median_ms", status.clock.median_offset_ms);
    line("clock_offset_max_ms", status.clock.max_offset_ms);
    int led = 0, held = 0;
    for (const ShardStatus& s : status.shards) {
      led += s.leader == status.self;
      for (NodeId v : s.voters) held += v == status.self;
    }
    line("shards_led", led);
    line("replicas_held", held);
    line("nodes", status.nodes.size());
    line("default_read_consistency", ReadConsistencyName(server.settings.default_read));
    line("connection_read_consistency",
         ReadConsistencyName(call.session.consistency.value_or(server.settings.default_read)));
  }
  return out;
}

void EncodeClusterStatus(const ClusterStatus& st, Encoder& out) {
  out.MapHeader(9);
  out.Bulk("self");
  out.Integer(st.self);
  out.Bulk("ready");
  out.Boolean(st.ready);
  out.Bulk("map_version");
  out.Integer(static_cast<int64_t>(st.map_version));
  out.Bulk("num_shards");
  out.Integer(st.num_shards);
  out.Bulk("replication_factor");
  out.Integer(st.replication_factor);
  out.Bulk("meta_leader");
  out.Integer(st.meta_leader);
  out.Bulk("clock");
  out.MapHeader(7);
  out.Bulk("monitored");
  out.Boolean(st.clock.monitored);
  out.Bulk("out_of_bound");
  out.Boolean(st.clock.out_of_bound);
  out.Bulk("median_offset_ms");
  out.Integer(st.clock.median_offset_ms);
  out.Bulk("max_offset_ms");
  out.Integer(st.clock.max_offset_ms);
  out.Bulk("peers_estimated");
  out.Integer(st.clock.peers_estimated);
  out.Bulk("peers_beyond");
  out.Integer(st.clock.peers_beyond);
  out.Bulk("description");
  out.Bulk(st.clock.description);
  out.Bulk("nodes");
  out.ArrayHeader(st.nodes.size());
  for (const NodeStatus& n : st.nodes) {
    out.MapHeader(8);
    out.Bulk("id");
    out.Integer(n.id);
    out.Bulk("address");
    out.Bulk(n.address);
    out.Bulk("state");
    out.Bulk(NodeStateName(n.state));
    out.Bulk("gossip");
    out.Bulk(n.gossip_state);
    out.Bulk("phi");
    out.Double(n.phi);
    out.Bulk("available");
    out.Boolean(n.available);
    out.Bulk("replicas");
    out.Integer(n.replicas);
    out.Bulk("leaders");
    out.Integer(n.leaders);
  }
  out.Bulk("shards");
  out.ArrayHeader(st.shards.size());
  for (const ShardStatus& s : st.shards) {
    out.MapHeader(6);
    out.Bulk("shard");
    out.Integer(s.shard);
    out.Bulk("leader");
    out.Integer(s.leader);
    out.Bulk("voters");
    out.ArrayHeader(s.voters.size());
    for (NodeId v : s.voters) out.Integer(v);
    out.Bulk("learners");
    out.ArrayHeader(s.learners.size());
    for (NodeId v : s.learners) out.Integer(v);
    out.Bulk("commit_index");
    out.Integer(static_cast<int64_t>(s.commit_index));
    out.Bulk("max_apply_lag");
    out.Integer(static_cast<int64_t>(s.max_apply_lag));
  }
}

}  // namespace crema::resp
