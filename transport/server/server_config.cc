#include "transport/server/server_config.h"

#include <cstdlib>
#include <fstream>

#include "absl/flags/flag.h"
#include "absl/flags/reflection.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "transport/address.h"
#include "transport/handshake.h"

ABSL_FLAG(std::string, node_id, "", "this node's id, a positive integer (required)");
ABSL_FLAG(std::string, peer_address, "", "host:port for peer traffic (required)");
ABSL_FLAG(std::string, resp_address, "127.0.0.1:6379", "host:port for Redis clients (RESP)");
ABSL_FLAG(std::string, http_address, "127.0.0.1:8080",
          "host:port for HTTP (/kv, /metrics, /cluster, /admin)");
ABSL_FLAG(std::string, data_dir, "", "directory for this node's durable state (required)");
ABSL_FLAG(std::string, peers, "",
          "peer addresses as id=host:port,... (self may be included); gossip seeds by default");
ABSL_FLAG(std::string, seeds, "",
          "node ids to join through (default: every id in --peers but this one)");
ABSL_FLAG(std::string, bootstrap, "",
          "founding node ids of a NEW cluster, the same list on every founder (e.g. 1,2,3); "
          "empty: join an existing cluster through the seeds and wait to be admitted");
ABSL_FLAG(std::string, capacity, "100000", "cache capacity of this node (see --capacity_unit)");
ABSL_FLAG(std::string, capacity_unit, "entries", "entries | bytes");
ABSL_FLAG(std::string, default_ttl, "0", "TTL of writes without one, e.g. 1h; 0 = none");
ABSL_FLAG(std::string, shards, "64", "shards of a new cluster (bootstrap only)");
ABSL_FLAG(std::string, replication_factor, "3", "replicas per shard (bootstrap only)");
ABSL_FLAG(std::string, default_read, "local", "default read consistency: local | linearizable");
ABSL_FLAG(bool, auto_admit, false, "admit every node gossip reports alive (local clusters)");
ABSL_FLAG(std::string, replace_dead_after, "0",
          "replace replicas of a node unavailable this long, e.g. 10m; 0 = never");
ABSL_FLAG(std::string, tick_interval, "100ms", "Raft tick");
ABSL_FLAG(std::string, election_tick, "10", "Raft election timeout in ticks");
ABSL_FLAG(std::string, cluster_secret_file, "",
          "file holding the cluster secret (16+ bytes); default $CREMA_CLUSTER_SECRET");
ABSL_FLAG(std::string, admin_token_file, "",
          "file holding the admin token (HTTP /admin, RESP AUTH admin); default "
          "$CREMA_ADMIN_TOKEN; none = admin API off");
ABSL_FLAG(std::string, password_file, "",
          "file holding the RESP password (AUTH); default $CREMA_PASSWORD; none = no AUTH");
ABSL_FLAG(std::string, log_level, "info", "debug | info | warn | error");
ABSL_FLAG(std::string, log_file, "", "log to this file instead of stderr");
ABSL_FLAG(std::string, max_clients, "10000", "RESP connections at most");
ABSL_FLAG(std::string, idle_timeout, "0", "close RESP clients idle this long; 0 = never");
ABSL_FLAG(std::string, pipeline_window, "64", "pipelined commands held per RESP connection");
ABSL_FLAG(std::string, request_timeout, "5s", "how long one request may wait for the cluster");
ABSL_FLAG(std::string, max_bulk_bytes, "8388608", "largest RESP bulk string (bytes)");
ABSL_FLAG(std::string, raft_log, "shared",
          "shared: one durable log for all Raft groups of the node (one fsync per cycle); "
          "per_group: a WAL per group (for comparison)");
ABSL_FLAG(bool, fsync_on_worker, true,
          "fsync on a worker thread while the event loop keeps serving (false: for comparison)");
ABSL_FLAG(std::string, shutdown_timeout, "10s",
          "on SIGTERM: time allowed to hand leaderships away and flush");

namespace crema::server {
namespace {

absl::Status Bad(absl::string_view flag, absl::string_view problem) {
  return absl::InvalidArgumentError(absl::StrCat("--", flag, ": ", problem));
}

absl::StatusOr<int64_t> PositiveInt(absl::string_view flag, const std::string& text,
                                    int64_t max = INT64_MAX) {
  int64_t v = 0;
  if (!absl::SimpleAtoi(text, &v) || v <= 0 || v > max) {
    return Bad(flag, absl::StrCat("'", text, "' is not a positive integer (at most ", max, ")"));
  }
  return v;
}

// "0" = zero; else a positive absl duration.
absl::StatusOr<absl::Duration> Duration(absl::string_view flag, const std::string& text,
                                        bool zero_ok) {
  absl::Duration d;
  if (zero_ok && text == "0") return absl::ZeroDuration();
  if (!absl::ParseDuration(text, &d) || d <= absl::ZeroDuration() ||
      d == absl::InfiniteDuration()) {
    return Bad(flag, absl::StrCat("'", text, "' is not a positive duration like 500ms or 1h",
                                  zero_ok ? " (or 0)" : ""));
  }
  return d;
}

absl::StatusOr<std::vector<NodeId>> IdList(absl::string_view flag, const std::string& text) {
  std::vector<NodeId> ids;
  for (absl::string_view part : absl::StrSplit(text, ',', absl::SkipEmpty())) {
    uint32_t id = 0;
    if (!absl::SimpleAtoi(part, &id) || id == kNoNode) {
      return Bad(flag, absl::StrCat("'", part, "' is not a positive node id"));
    }
    ids.push_back(id);
  }
  return ids;
}

// The secret from a file (trailing newline stripped), else from the environment. At most
// kMaxSecretFileBytes are read: a mistyped path (/dev/zero, a log file) gets an error, not an
// endless read.
absl::StatusOr<std::string> Secret(absl::string_view flag, const std::string& file,
                                   const char* env) {
  if (!file.empty()) {
    std::ifstream in(file, std::ios::binary);
    if (!in) return Bad(flag, absl::StrCat("cannot read '", file, "'"));
    std::string s(kMaxSecretFileBytes + 1, '\0');
    in.read(s.data(), static_cast<std::streamsize>(s.size()));
    if (in.bad()) return Bad(flag, absl::StrCat("cannot read '", file, "'"));
    s.resize(static_cast<size_t>(in.gcount()));
    if (s.size() > kMaxSecretFileBytes) {
      return Bad(flag, absl::StrCat("'", file, "' is longer than ", kMaxSecretFileBytes,
                                    " bytes; is it the right file?"));
    }
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
    if (s.empty()) return Bad(flag, absl::StrCat("'", file, "' is empty"));
    return s;
  }
  const char* value = std::getenv(env);
  return value ? std::string(value) : std::string();
}

#define ASSIGN_OR_RETURN_CFG(lhs, expr) \
  {                                     \
    auto _v = (expr);                   \
    if (!_v.ok()) return _v.status();   \
    lhs = *std::move(_v);               \
  }

}  // namespace

absl::Status PrescanArgs(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg.substr(0, 2) != "--") {
      return absl::InvalidArgumentError(absl::StrCat("unexpected argument '", std::string(arg), "'"));
    }
    const size_t eq = arg.find('=');
    std::string name(arg.substr(2, eq == std::string_view::npos ? std::string_view::npos : eq - 2));
    if (name == "help" || name == "helpfull" || name == "version") continue;
    absl::CommandLineFlag* flag = absl::FindCommandLineFlag(name);
    bool negated = false;
    if (flag == nullptr && absl::StartsWith(name, "no")) {
      flag = absl::FindCommandLineFlag(name.substr(2));
      negated = true;
    }
    if (flag == nullptr) return absl::InvalidArgumentError(absl::StrCat("unknown flag '--", name, "'"));
    const bool is_bool = flag->IsOfType<bool>();
    if (negated && !is_bool) {
      return absl::InvalidArgumentError(absl::StrCat("unknown flag '--", name, "'"));
    }
    if (!is_bool && eq == std::string_view::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("flag '--", name, "' needs a value: --", name, "=..."));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<ServerConfig> ConfigFromFlags() {
  ServerConfig c;
  absl::StatusOr<EventualServerConfig> eventual = EventualConfigFromFlags();
  if (!eventual.ok()) return eventual.status();
  c.eventual = *std::move(eventual);
  // The flag's keyspaces are the bootstrap map's (generation 0); later ones are created at run
  // time through the metadata group (node/cluster/meta_command.h).
  c.cache.keyspaces = c.eventual.keyspaces;
  int64_t v = 0;
  ASSIGN_OR_RETURN_CFG(v, PositiveInt("node_id", absl::GetFlag(FLAGS_node_id), UINT32_MAX));
  c.cache.node_id = static_cast<NodeId>(v);
  c.runtime.self = c.cache.node_id;

  c.cache.peer_address = absl::GetFlag(FLAGS_peer_address);
  if (c.cache.peer_address.empty()) return Bad("peer_address", "required (host:port)");
  if (auto e = transport::ParseHostPort(c.cache.peer_address); !e.ok()) {
    return Bad("peer_address", e.status().message());
  }
  c.runtime.listen_address = c.cache.peer_address;
  c.resp.listen_address = absl::GetFlag(FLAGS_resp_address);
  if (auto e = transport::ParseHostPort(c.resp.listen_address); !e.ok()) {
    return Bad("resp_address", e.status().message());
  }
  c.http.listen_address = absl::GetFlag(FLAGS_http_address);
  if (auto e = transport::ParseHostPort(c.http.listen_address); !e.ok()) {
    return Bad("http_address", e.status().message());
  }
  c.runtime.data_dir = absl::GetFlag(FLAGS_data_dir);
  if (c.runtime.data_dir.empty()) return Bad("data_dir", "required");

  auto peers = transport::ParsePeerList(absl::GetFlag(FLAGS_peers));
  if (!peers.ok()) return Bad("peers", peers.status().message());
  c.runtime.peers = *peers;
  ASSIGN_OR_RETURN_CFG(c.cache.seeds, IdList("seeds", absl::GetFlag(FLAGS_seeds)));
  if (c.cache.seeds.empty()) {
    for (const auto& [id, address] : c.runtime.peers) {
      if (id != c.cache.node_id) c.cache.seeds.push_back(id);
    }
  }
  for (NodeId seed : c.cache.seeds) {
    if (seed != c.cache.node_id && !c.runtime.peers.contains(seed)) {
      return Bad("seeds", absl::StrCat("seed ", seed, " has no address in --peers"));
    }
  }
  ASSIGN_OR_RETURN_CFG(c.cache.bootstrap, IdList("bootstrap", absl::GetFlag(FLAGS_bootstrap)));
  for (NodeId founder : c.cache.bootstrap) {
    if (founder != c.cache.node_id && !c.runtime.peers.contains(founder)) {
      return Bad("bootstrap", absl::StrCat("founder ", founder, " has no address in --peers"));
    }
  }

  ASSIGN_OR_RETURN_CFG(c.cache.max_capacity, PositiveInt("capacity", absl::GetFlag(FLAGS_capacity)));
  const std::string unit = absl::GetFlag(FLAGS_capacity_unit);
  if (unit == "entries") {
    c.cache.capacity_unit = CapacityUnit::kEntries;
  } else if (unit == "bytes") {
    c.cache.capacity_unit = CapacityUnit::kBytes;
  } else {
    return Bad("capacity_unit", "must be entries or bytes");
  }
  absl::Duration ttl;
  ASSIGN_OR_RETURN_CFG(ttl, Duration("default_ttl", absl::GetFlag(FLAGS_default_ttl), true));
  c.cache.default_ttl = ttl == absl::ZeroDuration() ? absl::InfiniteDuration() : ttl;
  ASSIGN_OR_RETURN_CFG(v, PositiveInt("shards", absl::GetFlag(FLAGS_shards), kMaxShardsPerCluster));
  c.cache.num_shards = static_cast<uint32_t>(v);
  ASSIGN_OR_RETURN_CFG(v, PositiveInt("replication_factor", absl::GetFlag(FLAGS_replication_factor),
                                      kMaxReplicationFactor));
  c.cache.replication_factor = static_cast<int>(v);
  const std::string read = absl::GetFlag(FLAGS_default_read);
  if (read == "local") {
    c.cache.default_read = ReadConsistency::kLocal;
  } else if (read == "linearizable") {
    c.cache.default_read = ReadConsistency::kLinearizable;
  } else {
    return Bad("default_read", "must be local or linearizable");
  }
  c.cache.auto_admit = absl::GetFlag(FLAGS_auto_admit);
  ASSIGN_OR_RETURN_CFG(c.cache.replace_dead_after,
                       Duration("replace_dead_after", absl::GetFlag(FLAGS_replace_dead_after), true));
  ASSIGN_OR_RETURN_CFG(c.cache.tick_interval,
                       Duration("tick_interval", absl::GetFlag(FLAGS_tick_interval), false));
  ASSIGN_OR_RETURN_CFG(v, PositiveInt("election_tick", absl::GetFlag(FLAGS_election_tick), 1000));
  c.cache.election_tick = static_cast<int>(v);
  const std::string raft_log = absl::GetFlag(FLAGS_raft_log);
  if (raft_log == "shared") {
    c.cache.raft_shared_log = true;
  } else if (raft_log == "per_group") {
    c.cache.raft_shared_log = false;
  } else {
    return Bad("raft_log", "must be shared or per_group");
  }
  c.runtime.fsync_on_worker = absl::GetFlag(FLAGS_fsync_on_worker);
  if (absl::Status s = c.cache.Validate(); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("invalid cache configuration: ", s.message()));
  }

  ASSIGN_OR_RETURN_CFG(c.runtime.cluster_secret,
                       Secret("cluster_secret_file", absl::GetFlag(FLAGS_cluster_secret_file),
                              "CREMA_CLUSTER_SECRET"));
  if (absl::Status s = transport::ValidateClusterSecret(c.runtime.cluster_secret); !s.ok()) {
    return Bad("cluster_secret_file", absl::StrCat(s.message(),
                                                   " (or set $CREMA_CLUSTER_SECRET)"));
  }
  ASSIGN_OR_RETURN_CFG(c.admin_token, Secret("admin_token_file",
                                             absl::GetFlag(FLAGS_admin_token_file),
                                             "CREMA_ADMIN_TOKEN"));
  ASSIGN_OR_RETURN_CFG(c.resp_settings.password,
                       Secret("password_file", absl::GetFlag(FLAGS_password_file), "CREMA_PASSWORD"));
  c.resp_settings.admin_token = c.admin_token;
  c.resp_settings.node_id = c.cache.node_id;
  c.resp_settings.default_read = c.cache.default_read;

  c.log.node_id = c.cache.node_id;
  c.log.level = absl::GetFlag(FLAGS_log_level);
  log::Level level;
  if (!log::ParseLevel(c.log.level, &level)) return Bad("log_level", "must be debug, info, warn or error");
  c.log.file = absl::GetFlag(FLAGS_log_file);

  ASSIGN_OR_RETURN_CFG(v, PositiveInt("max_clients", absl::GetFlag(FLAGS_max_clients), 1'000'000));
  c.resp.max_clients = static_cast<size_t>(v);
  ASSIGN_OR_RETURN_CFG(c.resp.idle_timeout,
                       Duration("idle_timeout", absl::GetFlag(FLAGS_idle_timeout), true));
  ASSIGN_OR_RETURN_CFG(v, PositiveInt("pipeline_window", absl::GetFlag(FLAGS_pipeline_window), 4096));
  c.resp.pipeline_window = static_cast<size_t>(v);
  absl::Duration request_timeout;
  ASSIGN_OR_RETURN_CFG(request_timeout,
                       Duration("request_timeout", absl::GetFlag(FLAGS_request_timeout), false));
  c.resp_settings.request_timeout = request_timeout;
  ASSIGN_OR_RETURN_CFG(v, PositiveInt("max_bulk_bytes", absl::GetFlag(FLAGS_max_bulk_bytes),
                                      512LL * 1024 * 1024));
  c.resp.request_limits.max_bulk_bytes = static_cast<size_t>(v);
  ASSIGN_OR_RETURN_CFG(c.shutdown_timeout,
                       Duration("shutdown_timeout", absl::GetFlag(FLAGS_shutdown_timeout), false));
  return c;
}

}  // namespace crema::server
