// Raft's basic value types, shared by the pure core (consensus/), durable storage
// (consensus/storage/) and the driver.
//
// Indexes and terms start at 1; 0 means "none". A log is a sequence of `Entry` with consecutive
// indexes; the prefix up to `SnapshotMeta::index` may be compacted into a snapshot.
#ifndef CREMA_CONSENSUS_TYPES_H_
#define CREMA_CONSENSUS_TYPES_H_

#include <cstdint>
#include <string>
#include <vector>

namespace crema::raft {

using Term = uint64_t;
using Index = uint64_t;
// A replica of a group: the hosting node's id in the low 24 bits and a generation in the high
// 8. Generation 0 is the node id itself (a group's founding replicas, tests); a replica that is
// rebuilt on the same node (wiped and re-added) gets a new generation, so messages of its
// former incarnation can never be mistaken for its own. Node ids must be < 2^24.
using ReplicaId = uint32_t;
using GroupId = uint64_t;    // a Raft group (shard); many per node

inline constexpr ReplicaId kNoReplica = 0;
inline constexpr uint32_t kReplicaNodeBits = 24;
inline constexpr uint32_t kMaxReplicaNode = (1u << kReplicaNodeBits) - 1;
inline constexpr uint32_t kMaxReplicaGeneration = 255;

// REQUIRES: 0 < node <= kMaxReplicaNode, generation <= kMaxReplicaGeneration.
inline constexpr ReplicaId MakeReplicaId(uint32_t node, uint32_t generation) {
  return (generation << kReplicaNodeBits) | node;
}
// The node hosting `replica` (a crema::NodeId).
inline constexpr uint32_t NodeOfReplica(ReplicaId replica) { return replica & kMaxReplicaNode; }
inline constexpr uint32_t GenerationOfReplica(ReplicaId replica) {
  return replica >> kReplicaNodeBits;
}

enum class EntryType : uint8_t {
  kNormal = 0,      // a state-machine command (`data` is opaque to Raft); empty data = no-op
  kConfChange = 1,  // `data` encodes a membership change (see the core's conf-change codec)
};

struct Entry {
  Term term = 0;
  Index index = 0;
  EntryType type = EntryType::kNormal;
  std::string data;

  friend bool operator==(const Entry&, const Entry&) = default;
};

// State that must be durable (synced) before any message that depends on it is sent.
struct HardState {
  Term term = 0;
  ReplicaId vote = kNoReplica;
  Index commit = 0;

  friend bool operator==(const HardState&, const HardState&) = default;
};

// Membership of a group. Sorted, without duplicates; a replica is in at most one list.
// `voters_outgoing` is non-empty only during a joint-consensus transition.
struct ConfState {
  std::vector<ReplicaId> voters;
  std::vector<ReplicaId> learners;
  std::vector<ReplicaId> voters_outgoing;

  friend bool operator==(const ConfState&, const ConfState&) = default;
};

// Describes a snapshot: the state machine's state after applying every entry up to `index`.
struct SnapshotMeta {
  Index index = 0;
  Term term = 0;
  ConfState conf;

  friend bool operator==(const SnapshotMeta&, const SnapshotMeta&) = default;
};

}  // namespace crema::raft

#endif  // CREMA_CONSENSUS_TYPES_H_
