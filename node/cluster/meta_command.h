// Metadata commands: the only way the cluster map changes. The metadata Raft group's log carries
// them; `ApplyMetaCommand` is the one pure function every metadata replica — and every node
// following the map through deltas (map_follower.h) — applies, so all copies of map version v are
// identical.
//
//   bootstrap(map)                 the initial map (ignored once bootstrapped)
//   admit(node, address)           a node becomes (or becomes again) an active data node
//   set-state(node, state)         draining / removed / active
//   add-intent(group, node)        a new replica of the group on `node` (fresh generation) is
//                                  listed in `adding`: its node creates it, then the placement
//                                  controller asks the group's leader to add it to Raft
//   cancel-intent(group, replica)  a replica listed in `adding` that is no longer wanted (its node
//                                  stopped being a target before Raft added it) leaves `adding`;
//                                  only proposed once the group's leader showed it is not a member
//   record-conf(group, voters, learners, conf_index)
//                                  the group's Raft configuration as of its log index conf_index
//                                  (ignored unless newer than the recorded one); members leave
//                                  `adding`
//   create-keyspace(spec)          a new live keyspace (keyspace_config.h syntax) with the map's
//                                  next keyspace generation; refused if the spec is invalid
//                                  (INVALID_ARGUMENT naming the field), its index or name is
//                                  taken by a live keyspace (ALREADY_EXISTS), or
//                                  kMaxDroppingKeyspaces dropped keyspaces still wait for their
//                                  purge (RESOURCE_EXHAUSTED); UNAVAILABLE before the bootstrap
//   drop-keyspace(index, generation)
//                                  the live keyspace (index, generation) becomes `dropping`;
//                                  refused if there is none (NOT_FOUND) or it is keyspace 0
//                                  (INVALID_ARGUMENT: clients that never SELECT use it)
//   forget-keyspace(index, generation)
//                                  a dropping keyspace whose data is purged leaves the map
// A command that changes nothing (a stale record-conf, admitting an active node again, ...) is a
// no-op: the version does not move. Otherwise the version increases by exactly one.
//
// Wire format: u8 version | u8 kind | fields (node/wire.h); decoding never crashes on garbage.
// Thread safety: values and pure functions.
#ifndef CREMA_NODE_CLUSTER_META_COMMAND_H_
#define CREMA_NODE_CLUSTER_META_COMMAND_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "node/cluster/cluster_map.h"

namespace crema::cluster {

enum class MetaCommandKind : uint8_t {
  kBootstrap = 1,
  kAdmit = 2,
  kSetState = 3,
  kAddIntent = 4,
  kRecordConf = 5,
  kCancelIntent = 6,
  kCreateKeyspace = 7,
  kDropKeyspace = 8,
  kForgetKeyspace = 9,
};
const char* MetaCommandKindName(MetaCommandKind kind);

struct MetaCommand {
  MetaCommandKind kind = MetaCommandKind::kAdmit;
  ClusterMap map;           // bootstrap
  NodeId node = kNoNode;    // admit, set-state, add-intent
  std::string address;      // admit
  NodeState state = NodeState::kActive;  // set-state
  raft::GroupId group = 0;  // add-intent, record-conf, cancel-intent
  ReplicaId replica = raft::kNoReplica;  // cancel-intent
  std::vector<ReplicaId> voters;    // record-conf (sorted)
  std::vector<ReplicaId> learners;  // record-conf (sorted)
  raft::Index conf_index = 0;       // record-conf
  std::string keyspace_spec;        // create-keyspace (<= keyspace::kMaxKeyspaceSpecBytes)
  uint32_t keyspace_index = 0;      // drop-keyspace, forget-keyspace (< keyspace::kMaxKeyspaces)
  uint64_t keyspace_generation = 0; // drop-keyspace, forget-keyspace
  friend bool operator==(const MetaCommand&, const MetaCommand&) = default;
};

std::string EncodeMetaCommand(const MetaCommand& command);
[[nodiscard]] absl::StatusOr<MetaCommand> DecodeMetaCommand(std::string_view bytes);
std::string FormatMetaCommand(const MetaCommand& command);

// Applies `command` to `map`; returns whether it changed (then map.version was incremented).
bool ApplyMetaCommand(ClusterMap& map, const MetaCommand& command);
// The same, with the reason a command changed nothing: OK if it changed the map; for the keyspace
// commands the refusal above; for the others FAILED_PRECONDITION ("no change").
absl::Status ApplyMetaCommandOrWhy(ClusterMap& map, const MetaCommand& command);

}  // namespace crema::cluster

#endif  // CREMA_NODE_CLUSTER_META_COMMAND_H_
