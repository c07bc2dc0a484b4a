// Membership value types shared by the SWIM core, its codec and placement.
//
// A member is identified by its `NodeId` (the same id space as Raft's ReplicaId). Everything else
// about it (address, metadata) may change over its lifetime, but only together with a higher
// `incarnation`: the incarnation is the member's own version counter, bumped only by the member
// itself (to refute a suspicion, to announce new metadata, or to leave), so "higher incarnation
// wins" orders all claims about one member. A restarted node starts at a new generation (the
// driver may pass one in) or learns its old incarnation from gossip and refutes it.
//
// Thread safety: plain values.
#ifndef CREMA_NODE_MEMBERSHIP_TYPES_H_
#define CREMA_NODE_MEMBERSHIP_TYPES_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/container/btree_map.h"

namespace crema::membership {

using NodeId = uint32_t;  // same id space as crema::NodeId and raft::ReplicaId
inline constexpr NodeId kNoNode = 0;

using Incarnation = uint64_t;

// Small string→string metadata (e.g. which shards a node serves). Ordered, so its encoding and
// comparison are deterministic.
using Metadata = absl::btree_map<std::string, std::string>;

// Bounds on what one member may carry (enforced by the codec and by `Swim::UpdateMetadata`).
inline constexpr size_t kMaxAddressBytes = 255;
inline constexpr size_t kMaxMetadataEntries = 16;
inline constexpr size_t kMaxMetadataKeyBytes = 64;
inline constexpr size_t kMaxMetadataValueBytes = 512;

enum class MemberState : uint8_t {
  kAlive = 0,
  kSuspect = 1,
  kDead = 2,  // declared failed; kept as a tombstone until it expires
  kLeft = 3,  // left gracefully; kept as a tombstone until it expires
};

std::string_view MemberStateName(MemberState state);

// True for states that still count as cluster members (probed, placed on the ring).
inline bool IsLive(MemberState state) {
  return state == MemberState::kAlive || state == MemberState::kSuspect;
}

struct Member {
  NodeId id = kNoNode;
  std::string address;
  Incarnation incarnation = 0;
  MemberState state = MemberState::kAlive;
  Metadata metadata;

  friend bool operator==(const Member&, const Member&) = default;
};

// One gossiped claim about one member: "`member` is in `state` at `incarnation`", made by
// `accuser` (meaningful for suspect/dead; the member itself for alive/left). Carried piggybacked on
// probes and in push-pull state exchanges. Address and metadata travel with every update so an
// update about an unknown member is enough to learn it.
struct MemberUpdate {
  Member member;
  NodeId accuser = kNoNode;

  friend bool operator==(const MemberUpdate&, const MemberUpdate&) = default;
};

enum class MembershipEventKind : uint8_t {
  kJoined = 0,      // first seen alive, or alive again after dead/left (a rejoin)
  kSuspected = 1,   // alive → suspect
  kAliveAgain = 2,  // suspect → alive (the member refuted the suspicion)
  kDead = 3,        // declared dead
  kLeft = 4,        // left gracefully
  kUpdated = 5,     // still alive, new address or metadata
};

std::string_view MembershipEventKindName(MembershipEventKind kind);

struct MembershipEvent {
  MembershipEventKind kind;
  Member member;  // the member as it is after the event
};

}  // namespace crema::membership

#endif  // CREMA_NODE_MEMBERSHIP_TYPES_H_
