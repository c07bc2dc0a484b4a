// Session: the state of one RESP client connection that commands read and change (HELLO, AUTH,
// CLIENT SETNAME, SELECT, CREMA.CONSISTENCY), and ServerContext: what every connection shares
// (the node API, settings, counters). Both are plain data used on the node's loop thread.
#ifndef CREMA_TRANSPORT_RESP_SESSION_H_
#define CREMA_TRANSPORT_RESP_SESSION_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "node/cache_node/cache_api.h"
#include "node/clock.h"
#include "node/keyspace/keyspace_api.h"

namespace crema::resp {

struct Session {
  uint64_t id = 0;
  std::string name;                 // CLIENT SETNAME
  int resp_version = 2;             // HELLO 2|3
  bool authenticated = false;       // as "default" (or no password configured)
  bool admin = false;               // AUTH admin <admin token>
  std::optional<ReadConsistency> consistency;  // unset: the node's default
  uint32_t keyspace = 0;            // SELECT (keyspace_config.h)
  keyspace::RequestLevels levels;   // CREMA.CONSISTENCY <level> (eventual keyspaces)
  std::string peer_address;         // "ip:port"
  std::string local_address;
  absl::Time created = absl::InfinitePast();   // monotonic
  absl::Time last_active = absl::InfinitePast();
  std::string last_command;
  bool close_after_reply = false;   // QUIT
  uint64_t commands = 0;
};

// Settings fixed at start.
struct ServerSettings {
  std::string password;        // empty: no AUTH needed (like Redis without requirepass)
  std::string admin_token;     // empty: admin commands disabled
  uint64_t node_id = 0;
  std::string version = "0.1.0";
  std::string resp_address;    // "host:port" the RESP server listens on
  std::string http_address;
  absl::Duration request_timeout = absl::Seconds(5);
  ReadConsistency default_read = ReadConsistency::kLocal;
  size_t max_clients = 10'000;
  absl::Duration idle_timeout = absl::ZeroDuration();  // zero = never (Redis's timeout 0)
  // INFO's Memory section: the malloc serving the process (Redis's mem_allocator) and, when it
  // can tell, the bytes allocated (used_memory; redis-cli --stat reads it). Set by the binary.
  std::string mem_allocator = "libc";
  std::function<std::optional<size_t>()> used_memory;
};

// Counters for INFO.
struct ServerCounters {
  uint64_t connections_received = 0;
  uint64_t connections_rejected = 0;
  uint64_t commands_processed = 0;
  uint64_t protocol_errors = 0;
  uint64_t reply_writes = 0;  // socket writes of replies (pipelined replies share writes)
  int64_t connected_clients = 0;
};

// One replica hosted by this node, for convergence checks (CREMA.DIGESTS): replicas of a group
// have converged when they report the same applied index and digest.
struct ReplicaDigest {
  uint64_t group = 0;
  uint64_t replica = 0;
  uint64_t applied = 0;  // the replica's applied index
  uint64_t commit = 0;   // its Raft commit index
  uint64_t digest = 0;   // XXH3 of its replicated state (a checkpoint)
  bool leader = false;
  // Not serving: "opening" (being created or reopened) or "stopped: <why>" (a storage error
  // stopped it; it reopens after a backoff unless the data is corrupt). Empty while running.
  std::string not_running;
  std::string raft_status;  // Raft::StatusLine() of a running replica (for operators)
};

struct ServerContext {
  CacheApi* api = nullptr;
  // Keyspaces (null: only database 0, the plain cache `api`). Each data command opens the
  // session's keyspace here and runs against the handle's CacheApi.
  keyspace::KeyspaceApi* keyspaces = nullptr;
  const Clock* clock = nullptr;
  ServerSettings settings;
  ServerCounters counters;
  absl::Time started = absl::InfinitePast();  // monotonic
  // One "id=.. addr=.. name=.. age=.. idle=.. cmd=.. resp=.." line per connection (CLIENT LIST).
  std::function<std::vector<std::string>()> client_list;
  // Every replica this node hosts (CREMA.DIGESTS); null when the served node cannot tell.
  std::function<std::vector<ReplicaDigest>()> replica_digests;
};

}  // namespace crema::resp

#endif  // CREMA_TRANSPORT_RESP_SESSION_H_
