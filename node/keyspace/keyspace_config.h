// Keyspaces: named, numbered sets of keys, each with a consistency mode chosen when it is
// declared — `strong` (the Raft-backed cache, node/cache_node) or `eventual` (Dynamo-style,
// node/eventual) — and its own default TTL, TTL ceiling, capacity and default request levels.
//
// Keyspaces live in the cluster map (node/cluster/cluster_map.h): a new cluster's come from its
// founders' configuration (crema_server --keyspaces), later ones are created and dropped at run
// time (CREMA.KEYSPACE CREATE|DROP, docs/dynamo.md); a node refuses requests to keyspaces its map
// does not have. Keyspace 0 always exists: if not declared it is the strong default keyspace,
// reached by clients that never SELECT.
//
// Spec syntax (one flag, keyspaces separated by ','; fields by ':'):
//   <index>:<name>:<strong|eventual>[:ttl=<dur>][:max_ttl=<dur>][:capacity=<bytes>]
//                                   [:read=<level>][:write=<level>]
//   e.g. "0:main:strong,1:sessions:eventual:ttl=30m:capacity=256MiB:read=one:write=quorum"
// <index> in [0, kMaxKeyspaces) is the RESP SELECT number; <name> ([a-z0-9_-], 1..32 bytes) is
// the HTTP keyspace. <dur> is an absl duration ("90s", "30m"); <bytes> a count with an optional
// KiB/MiB/GiB suffix (eventual keyspaces only: strong ones share the Raft cache's capacity). <level> is eventual::ParseConsistency's ("one", "quorum", "all", "2",
// "quorum~" for sloppy); only eventual keyspaces take read/write levels.
//
// Invariants after ParseKeyspaces: indexes and names unique, sorted by index, index 0 present.
// Thread safety: values and pure functions.
#ifndef CREMA_NODE_KEYSPACE_KEYSPACE_CONFIG_H_
#define CREMA_NODE_KEYSPACE_KEYSPACE_CONFIG_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "node/eventual/core/consistency.h"

namespace crema::keyspace {

inline constexpr uint32_t kMaxKeyspaces = 16;       // Redis's default number of databases
inline constexpr size_t kMaxKeyspaceNameBytes = 32;

enum class Mode : uint8_t { kStrong, kEventual };
const char* ModeName(Mode mode);  // "strong", "eventual"

struct KeyspaceSpec {
  uint32_t index = 0;
  std::string name = "default";
  Mode mode = Mode::kStrong;
  std::optional<absl::Duration> default_ttl;  // writes without a TTL get this one
  std::optional<absl::Duration> max_ttl;      // longer TTLs (and "never") are clamped to this
  uint64_t capacity_bytes = 0;                // 0: bounded only by the node's store
  eventual::Consistency read = eventual::Consistency::Quorum();   // eventual only
  eventual::Consistency write = eventual::Consistency::Quorum();  // eventual only

  std::string ToString() const;  // the spec syntax, round-trippable
  friend bool operator==(const KeyspaceSpec&, const KeyspaceSpec&) = default;
};

// A keyspace as the cluster map has it: its spec and its generation (0: declared by flags at
// bootstrap; node/cluster/cluster_map.h).
struct Keyspace {
  KeyspaceSpec spec;
  uint64_t generation = 0;
  friend bool operator==(const Keyspace&, const Keyspace&) = default;
};

// Bound on one spec's text (a cluster-map record or a CREATE argument): the longest valid spec is
// well under it.
inline constexpr size_t kMaxKeyspaceSpecBytes = 256;

// INVALID_ARGUMENT naming the offending keyspace and field.
absl::StatusOr<std::vector<KeyspaceSpec>> ParseKeyspaces(std::string_view text);

// One keyspace's spec (no ',' lists, no default added): what CREMA.KEYSPACE CREATE takes and what
// the cluster map stores (ToString's output parses back to an equal spec). INVALID_ARGUMENT
// naming the field, also for text longer than kMaxKeyspaceSpecBytes.
absl::StatusOr<KeyspaceSpec> ParseKeyspaceSpec(std::string_view text);

// The prefix of every stored key of strong keyspace (`index`, `generation`) in the Raft cache:
// "\xffks" <index> ":" for generation 0, "\xffks" <0x80 | index> <generation varint> ":" after
// (node/keyspace/keyspace_node.h explains the layout). REQUIRES: index > 0 or generation > 0
// (keyspace 0 of generation 0 stores keys as they are).
std::string StrongKeyspacePrefix(uint32_t index, uint64_t generation);

// Whether any keyspace is eventual (the server then starts the eventual-mode node).
bool AnyEventual(const std::vector<KeyspaceSpec>& specs);

}  // namespace crema::keyspace

#endif  // CREMA_NODE_KEYSPACE_KEYSPACE_CONFIG_H_
