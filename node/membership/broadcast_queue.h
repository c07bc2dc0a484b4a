// BroadcastQueue: the gossip updates a node still has to send, with bounded retransmission.
//
// SWIM disseminates membership updates by piggybacking them on probe traffic (pings, acks, ...);
// like HashiCorp memberlist, the core also drains the queue on a dedicated gossip timer (a few
// random members every gossip interval). Every message that carries an update counts one transmit,
// whatever its vehicle, and each update is sent at most `transmit_limit` times (the core passes
// λ·⌈log10(N+1)⌉, which the SWIM paper shows reaches every member with high probability).
//
// Order. When a message has room, updates are taken by (priority class, fewest transmits, newest):
//   kSelf     — claims a node makes about itself (a refutation, new metadata, leaving): a suspected
//               member's refutation must race its accusers' timers, so it never waits;
//   kFailure  — suspect / dead / left claims about others (they start or end timers elsewhere);
//   kAlive    — alive claims about others (joins, refutations heard second-hand).
// Priorities only matter when the message size limit cuts a fill short.
//
// At most one update per member is queued: a newer claim about a member replaces the older one
// (it supersedes it anyway) and starts again at zero transmits.
//
// Invariants: size() <= max_pending; every queued update has transmits < its limit when last
// filled. When full, the update of the lowest class transmitted most often (oldest among equals)
// is dropped.
//
// Thread safety: none (one owner). Deterministic: ordered containers only.
#ifndef CREMA_NODE_MEMBERSHIP_BROADCAST_QUEUE_H_
#define CREMA_NODE_MEMBERSHIP_BROADCAST_QUEUE_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "absl/container/btree_map.h"
#include "node/membership/types.h"

namespace crema::membership {

enum class BroadcastPriority : uint8_t {
  kSelf = 0,
  kFailure = 1,
  kAlive = 2,
};

class BroadcastQueue {
 public:
  // REQUIRES: max_pending > 0.
  explicit BroadcastQueue(size_t max_pending);

  // Queues `update` with zero transmits, replacing any queued update about the same member.
  void Enqueue(MemberUpdate update, BroadcastPriority priority = BroadcastPriority::kAlive);

  // Appends to `out` queued updates, in the order above, whose encoded sizes fit in `budget_bytes`
  // together; counts one transmit for each, and drops those that reach `transmit_limit`. Members
  // that `out` already carries an update about are skipped (not counted). Returns the bytes used.
  // REQUIRES: transmit_limit >= 1.
  size_t Fill(size_t budget_bytes, int transmit_limit, std::vector<MemberUpdate>* out);

  size_t size() const { return by_order_.size(); }
  bool empty() const { return by_order_.empty(); }
  // Transmits so far of the queued update about `id`, or -1 if none is queued.
  int TransmitsOf(NodeId id) const;

 private:
  // Ordered by (priority, transmits ascending, newest first).
  struct OrderKey {
    BroadcastPriority priority;
    int transmits;
    uint64_t neg_sequence;  // ~sequence, so larger sequences (newer) sort first
    friend bool operator<(const OrderKey& a, const OrderKey& b) {
      if (a.priority != b.priority) return a.priority < b.priority;
      if (a.transmits != b.transmits) return a.transmits < b.transmits;
      return a.neg_sequence < b.neg_sequence;
    }
  };

  void Erase(NodeId id);

  size_t max_pending_;
  uint64_t next_sequence_ = 0;
  absl::btree_map<OrderKey, MemberUpdate> by_order_;
  absl::btree_map<NodeId, OrderKey> by_member_;
};

}  // namespace crema::membership

#endif  // CREMA_NODE_MEMBERSHIP_BROADCAST_QUEUE_H_
