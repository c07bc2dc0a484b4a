// KeyspaceApi: the node-level API beside CacheApi that front ends use when a server hosts
// keyspaces of both consistency modes (keyspace_config.h). A front end opens the keyspace a
// request names (RESP: the connection's SELECT index; HTTP: ?keyspace=) with the request's
// eventual-mode levels, and then calls the ordinary CacheApi on the handle — so RESP and HTTP only
// parse and dispatch; every rule (key namespacing, default and maximum TTL, capacity, levels,
// which operations a mode supports) lives in the node (keyspace_node.h).
//
// Per-request levels apply to eventual keyspaces only (strong keyspaces are linearizable for
// writes and take ReadOptions::consistency for reads); unset levels use the keyspace's defaults.
//
// Errors of Open: NOT_FOUND for an unknown keyspace. Errors of the handle's calls: CacheApi's,
// plus UNIMPLEMENTED for operations an eventual keyspace does not offer (conditional and
// read-modify-write commands: NX/XX/GET on SET, INCR, GETEX, EXPIRE/PERSIST, CAS, DBSIZE — LWW
// replicas cannot make them atomic), and RESOURCE_EXHAUSTED when the keyspace's capacity is
// reached on the coordinating node.
//
// Thread safety: the node's loop thread; a handle's calls are fiber-only and the handle must not
// outlive the KeyspaceApi.
#ifndef CREMA_NODE_KEYSPACE_KEYSPACE_API_H_
#define CREMA_NODE_KEYSPACE_KEYSPACE_API_H_

#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "node/cache_node/cache_api.h"
#include "node/eventual/core/consistency.h"
#include "node/keyspace/keyspace_config.h"

namespace crema::keyspace {

struct RequestLevels {
  std::optional<eventual::Consistency> read;   // R; unset: the keyspace's default
  std::optional<eventual::Consistency> write;  // W; unset: the keyspace's default
};

// Parses a request's level text: "one", "quorum", "all", a count, each optionally suffixed "~"
// (sloppy) — case-insensitive. nullopt otherwise.
inline std::optional<eventual::Consistency> ParseLevel(std::string_view text) {
  return eventual::ParseConsistency(text);
}

// A keyspace as the cluster map has it: its spec and its generation (0: declared by flags at
// bootstrap; node/cluster/cluster_map.h).
struct Keyspace {
  KeyspaceSpec spec;
  uint64_t generation = 0;
  friend bool operator==(const Keyspace&, const Keyspace&) = default;
};

struct KeyspaceHandle {
  const KeyspaceSpec* spec = nullptr;  // valid while the handle lives
  uint64_t generation = 0;
  CacheApi* api = nullptr;             // valid while the handle lives
  std::shared_ptr<CacheApi> owned;     // keeps the view alive (may be null)
  std::shared_ptr<const void> keep;    // keeps *spec alive (the node's keyspace table)
};

class KeyspaceApi {
 public:
  virtual ~KeyspaceApi() = default;
  // The live keyspaces, by index (a copy: the table may change at any fiber switch).
  virtual std::vector<KeyspaceSpec> keyspaces() const = 0;
  virtual absl::StatusOr<KeyspaceHandle> Open(uint32_t index, const RequestLevels& levels) = 0;
  virtual absl::StatusOr<KeyspaceHandle> OpenByName(std::string_view name,
                                                    const RequestLevels& levels) = 0;
};

}  // namespace crema::keyspace

#endif  // CREMA_NODE_KEYSPACE_KEYSPACE_API_H_
