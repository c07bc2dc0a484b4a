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
// Keyspaces live in the cluster map (node/cluster/cluster_map.h) and are created and dropped at
// run time (Create / Drop, through the metadata group); the node follows the map. Open of an index
// or name this node's map does not have is answered NOT_FOUND only after one catch-up of the map
// (CacheApi::CatchUpMap), so a keyspace created through another node a moment ago is found.
//
// Errors of Open: NOT_FOUND for an unknown keyspace. Errors of the handle's calls: CacheApi's,
// plus UNIMPLEMENTED for operations an eventual keyspace does not offer (conditional and
// read-modify-write commands: NX/XX/GET on SET, INCR, GETEX, EXPIRE/PERSIST, CAS, DBSIZE — LWW
// replicas cannot make them atomic), and RESOURCE_EXHAUSTED when the keyspace's capacity is
// reached on the coordinating node.
//
// Errors of Create and Drop: CacheApi::CreateKeyspace's and DropKeyspace's; Create also
// FAILED_PRECONDITION for an eventual keyspace on a server without the eventual-mode node.
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
  virtual std::vector<Keyspace> List() = 0;
  std::vector<KeyspaceSpec> keyspaces() {
    std::vector<KeyspaceSpec> specs;
    for (Keyspace& k : List()) specs.push_back(std::move(k.spec));
    return specs;
  }
  // Fiber-only when the keyspace is not in this node's table (a catch-up of the map runs).
  virtual absl::StatusOr<KeyspaceHandle> Open(uint32_t index, const RequestLevels& levels) = 0;
  virtual absl::StatusOr<KeyspaceHandle> OpenByName(std::string_view name,
                                                    const RequestLevels& levels) = 0;
  // Open without ever waiting (for inline paths on the loop): NOT_FOUND without a catch-up.
  virtual absl::StatusOr<KeyspaceHandle> TryOpen(uint32_t index, const RequestLevels& levels) = 0;

  // --- administration (fiber-only) ---
  // Creates a keyspace from its spec (keyspace_config.h syntax); returns it with its generation.
  virtual absl::StatusOr<Keyspace> Create(std::string_view spec, absl::Duration timeout) = 0;
  // Drops the live keyspace with that index ("3") or name ("carts").
  virtual absl::Status Drop(std::string_view index_or_name, absl::Duration timeout) = 0;
};

}  // namespace crema::keyspace

#endif  // CREMA_NODE_KEYSPACE_KEYSPACE_API_H_
