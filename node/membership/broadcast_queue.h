// BroadcastQueue: the gossip updates a node still has to piggyback, with bounded retransmission.
//
// SWIM disseminates membership updates by piggybacking them on probe traffic (pings, acks, ...).
// Each update is sent at most `transmit_limit` times (the core passes λ·⌈log10(N+1)⌉, which the
// SWIM paper shows reaches every member with high probability); when a message has room, the
// updates sent the fewest times go first, newest first among equals. At most one update per member
// is queued: a newer claim about a member replaces the older one (it supersedes it anyway).
//
// Invariants: size() <= max_pending; every queued update has transmits < its limit when last
// filled. When full, the update transmitted most often (oldest among equals) is dropped.
//
// Thread safety: none (one owner).
#ifndef CREMA_NODE_MEMBERSHIP_BROADCAST_QUEUE_H_
#define CREMA_NODE_MEMBERSHIP_BROADCAST_QUEUE_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "absl/container/btree_map.h"
#include "node/membership/types.h"

namespace crema::membership {

class BroadcastQueue {
 public:
  // REQUIRES: max_pending > 0.
  explicit BroadcastQueue(size_t max_pending);

  // Queues `update` with zero transmits, replacing any queued update about the same member.
  void Enqueue(MemberUpdate update);

  // Appends to `out` queued updates, fewest transmits first, whose encoded sizes fit in
  // `budget_bytes` together; counts one transmit for each, and drops those that reach
  // `transmit_limit`. Returns the bytes used. REQUIRES: transmit_limit >= 1.
  size_t Fill(size_t budget_bytes, int transmit_limit, std::vector<MemberUpdate>* out);

  size_t size() const { return by_order_.size(); }
  bool empty() const { return by_order_.empty(); }
  // Transmits so far of the queued update about `id`, or -1 if none is queued.
  int TransmitsOf(NodeId id) const;

 private:
  // Ordered by (transmits ascending, newest first).
  struct OrderKey {
    int transmits;
    uint64_t neg_sequence;  // ~sequence, so larger sequences (newer) sort first
    friend bool operator<(const OrderKey& a, const OrderKey& b) {
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
