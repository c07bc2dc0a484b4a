// GCounter: a grow-only counter CRDT (one non-decreasing count per node; total = sum).
//
// Merge takes the maximum per entry, so merging is commutative, associative and idempotent: replicas
// that exchange states in any order, with losses and duplicates, converge to the same counter.
// Only node `n` increments entry `n`.
//
// Bounds: at most kMaxEntries nodes (a peer's counter with more entries is rejected by the codec).
// Entries are kept in an ordered map, so iteration (and encoding) is deterministic.
// Thread safety: plain value type.
#ifndef CREMA_NODE_PING_G_COUNTER_H_
#define CREMA_NODE_PING_G_COUNTER_H_

#include <cstddef>
#include <cstdint>

#include "absl/container/btree_map.h"
#include "node/network.h"

namespace crema::ping {

class GCounter {
 public:
  static constexpr size_t kMaxEntries = 64;

  // Adds `amount` to `node`'s entry. REQUIRES: node != kNoNode; the map stays within kMaxEntries.
  void Increment(NodeId node, uint64_t amount = 1);
  // Sets `node`'s entry to max(current, count). Same REQUIRES as Increment.
  void MergeEntry(NodeId node, uint64_t count);
  // Merges `other` into this; true if anything grew.
  bool Merge(const GCounter& other);

  uint64_t Get(NodeId node) const;
  uint64_t Total() const;
  const absl::btree_map<NodeId, uint64_t>& entries() const { return entries_; }
  friend bool operator==(const GCounter&, const GCounter&) = default;

 private:
  absl::btree_map<NodeId, uint64_t> entries_;
};

}  // namespace crema::ping

#endif  // CREMA_NODE_PING_G_COUNTER_H_
