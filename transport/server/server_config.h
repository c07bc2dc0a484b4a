// ServerConfig: everything crema_server is started with, built from its flags, environment and
// secret files. Values are parsed here (not by absl) so every mistake gets one clear message.
//
// Secrets never come only from a flag (flags show in `ps`): the cluster secret is read from
// --cluster_secret_file or $CREMA_CLUSTER_SECRET, the admin token from --admin_token_file or
// $CREMA_ADMIN_TOKEN, the RESP password from --password_file or $CREMA_PASSWORD.
//
// Thread safety: plain values; ConfigFromFlags reads absl flags (call after parsing them).
#ifndef CREMA_TRANSPORT_SERVER_SERVER_CONFIG_H_
#define CREMA_TRANSPORT_SERVER_SERVER_CONFIG_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "node/cache_node/cache_config.h"
#include "node/keyspace/keyspace_config.h"
#include "transport/http/http_server.h"
#include "transport/logging/log.h"
#include "transport/node_runtime.h"
#include "transport/resp/resp_server.h"

namespace crema::server {

// Secret files (cluster secret, admin token, password) longer than this are refused.
inline constexpr size_t kMaxSecretFileBytes = 4096;
// Keyspaces and the eventual-mode node (server_config_eventual.cc has the flags).
struct EventualServerConfig {
  std::vector<keyspace::KeyspaceSpec> keyspaces;  // from --keyspaces; index 0 always present
  std::string membership = "swim";                // swim | etcd
  std::string etcd_host = "127.0.0.1";
  uint16_t etcd_port = 2379;
  std::string etcd_prefix = "/crema/members/";
  absl::Duration etcd_lease_ttl = absl::Seconds(10);
  int replication = 3;
  uint64_t capacity_bytes = uint64_t{1} << 30;
  absl::Duration anti_entropy_interval = absl::Seconds(30);
  bool new_cluster = false;
};

// INVALID_ARGUMENT naming the first bad flag of server_config_eventual.cc.
absl::StatusOr<EventualServerConfig> EventualConfigFromFlags();

struct ServerConfig {
  CacheConfig cache;
  EventualServerConfig eventual;
  transport::NodeRuntimeOptions runtime;
  resp::ServerSettings resp_settings;
  resp::RespServerOptions resp;
  http::HttpServerOptions http;
  log::Options log;
  std::string admin_token;
  absl::Duration shutdown_timeout = absl::Seconds(10);
};

// INVALID_ARGUMENT naming the first bad flag (the caller prints it and exits 2).
absl::StatusOr<ServerConfig> ConfigFromFlags();

// Rejects unknown flags and "--flag value" forms (absl would exit 1 for them; we exit 2).
absl::Status PrescanArgs(int argc, char** argv);

}  // namespace crema::server

#endif  // CREMA_TRANSPORT_SERVER_SERVER_CONFIG_H_
