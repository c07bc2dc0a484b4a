// crema_server's flags for keyspaces, the eventual-mode node and the membership source behind it
// (server_config.h: EventualServerConfig). Kept apart from server_config.cc's flags; the file name
// keeps them in --help.
#include "absl/flags/flag.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "transport/server/server_config.h"

ABSL_FLAG(std::string, keyspaces, "",
          "keyspaces, e.g. 0:main:strong,1:sessions:eventual:ttl=30m:capacity=64MiB:read=one:write=quorum "
          "(docs/dynamo.md; default: keyspace 0, strong). A new cluster's map starts with them; "
          "later keyspaces are created at run time (CREMA.KEYSPACE CREATE)");
ABSL_FLAG(std::string, membership, "swim",
          "membership source of both modes (the strong mode's placement health, the eventual "
          "ring): swim (the cache's gossip) | etcd");
ABSL_FLAG(std::string, etcd_endpoint, "127.0.0.1:2379", "etcd client address (--membership=etcd)");
ABSL_FLAG(std::string, etcd_prefix, "/crema/members/", "etcd key prefix of the membership");
ABSL_FLAG(std::string, etcd_lease_ttl, "10s", "etcd lease TTL (keep-alive every TTL/3)");
ABSL_FLAG(std::string, eventual_replication, "3", "N: replicas of each key of eventual keyspaces");
ABSL_FLAG(std::string, eventual_capacity, "1073741824",
          "bytes of eventual-keyspace records this node holds at most (all keyspaces)");
ABSL_FLAG(std::string, eventual_anti_entropy_interval, "30s", "Merkle exchange period");
ABSL_FLAG(bool, eventual_new_cluster, false,
          "first start of a new cluster's founders only: an empty eventual store is not data loss "
          "(like etcd's --initial-cluster-state=new)");

namespace crema::server {
namespace {

absl::Status BadEventual(absl::string_view flag, absl::string_view problem) {
  return absl::InvalidArgumentError(absl::StrCat("--", flag, ": ", problem));
}

absl::StatusOr<absl::Duration> PositiveDuration(absl::string_view flag, const std::string& text) {
  absl::Duration d;
  if (!absl::ParseDuration(text, &d) || d <= absl::ZeroDuration() || d == absl::InfiniteDuration()) {
    return BadEventual(flag, absl::StrCat("'", text, "' is not a positive duration like 10s"));
  }
  return d;
}

}  // namespace

absl::StatusOr<EventualServerConfig> EventualConfigFromFlags() {
  EventualServerConfig c;
  absl::StatusOr<std::vector<keyspace::KeyspaceSpec>> specs =
      keyspace::ParseKeyspaces(absl::GetFlag(FLAGS_keyspaces));
  if (!specs.ok()) return BadEventual("keyspaces", specs.status().message());
  c.keyspaces = *std::move(specs);
  const std::string membership = absl::GetFlag(FLAGS_membership);
  if (membership != "swim" && membership != "etcd") return BadEventual("membership", "must be swim or etcd");
  c.membership = membership;
  std::vector<std::string> endpoint = absl::StrSplit(absl::GetFlag(FLAGS_etcd_endpoint), ':');
  int port = 0;
  if (endpoint.size() != 2 || endpoint[0].empty() || !absl::SimpleAtoi(endpoint[1], &port) || port <= 0 ||
      port > 65535) {
    return BadEventual("etcd_endpoint", "must be host:port");
  }
  c.etcd_host = endpoint[0];
  c.etcd_port = static_cast<uint16_t>(port);
  c.etcd_prefix = absl::GetFlag(FLAGS_etcd_prefix);
  if (c.etcd_prefix.empty() || c.etcd_prefix.back() != '/') return BadEventual("etcd_prefix", "must end with '/'");
  absl::StatusOr<absl::Duration> ttl = PositiveDuration("etcd_lease_ttl", absl::GetFlag(FLAGS_etcd_lease_ttl));
  if (!ttl.ok()) return ttl.status();
  if (*ttl < absl::Seconds(2)) return BadEventual("etcd_lease_ttl", "at least 2s");
  c.etcd_lease_ttl = *ttl;
  int replication = 0;
  if (!absl::SimpleAtoi(absl::GetFlag(FLAGS_eventual_replication), &replication) || replication < 1 ||
      replication > eventual::kMaxReplication) {
    return BadEventual("eventual_replication", absl::StrCat("must be 1..", eventual::kMaxReplication));
  }
  c.replication = replication;
  if (!absl::SimpleAtoi(absl::GetFlag(FLAGS_eventual_capacity), &c.capacity_bytes) || c.capacity_bytes == 0) {
    return BadEventual("eventual_capacity", "must be a positive byte count");
  }
  absl::StatusOr<absl::Duration> ae =
      PositiveDuration("eventual_anti_entropy_interval", absl::GetFlag(FLAGS_eventual_anti_entropy_interval));
  if (!ae.ok()) return ae.status();
  c.anti_entropy_interval = *ae;
  c.new_cluster = absl::GetFlag(FLAGS_eventual_new_cluster);
  return c;
}

}  // namespace crema::server
