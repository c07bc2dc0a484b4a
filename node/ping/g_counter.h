// GCounter: a grow-only counter CRDT (one non-decreasing count per node; total = sum).
//
// Merge takes the maximum per entry, so merging is commutative, associative and idempotent: replicas
// that exchange states in any order, with losses and duplicates, converge to the same counter.
// Only node `n` increments entry `n`.
//
// Bounds: at most kMaxEntries nodes (a peer's counter with more entries is rejected by the codec).
// Entries are kept sorted by node (a small sorted vector: every heartbeat decodes one, so it must
// be cheap to build), so iteration (and encoding) is deterministic.
// Thread safety: plain value type.
#ifndef CREMA_NODE_PING_G_COUNTER_H_
#define CREMA_NODE_PING_G_COUNTER_H_

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "node/network.h"

namespace crema::ping {

// The entries of a GCounter: (node, count) pairs in ascending node order, each node once.
class GCounterEntries {
 public:
  using value_type = std::pair<NodeId, uint64_t>;
  using const_iterator = std::vector<value_type>::const_iterator;

  size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }
  const_iterator begin() const { return entries_.begin(); }
  const_iterator end() const { return entries_.end(); }
  bool contains(NodeId node) const;
  friend bool operator==(const GCounterEntries&, const GCounterEntries&) = default;

 private:
  friend class GCounter;
  std::vector<value_type> entries_;
};

class GCounter {
 public:
  static constexpr size_t kMaxEntries = 64;

  // Adds `amount` to `node`'s entry. REQUIRES: node != kNoNode; the map stays within kMaxEntries.
  void Increment(NodeId node, uint64_t amount = 1);
  // Sets `node`'s entry to max(current, count). Same REQUIRES as Increment. Appending nodes in
  // ascending order (as a decoder does) costs O(1) each.
  void MergeEntry(NodeId node, uint64_t count);
  // Merges `other` into this; true if anything grew.
  bool Merge(const GCounter& other);

  uint64_t Get(NodeId node) const;
  uint64_t Total() const;
  const GCounterEntries& entries() const { return entries_; }
  friend bool operator==(const GCounter&, const GCounter&) = default;

 private:
  // The entry of `node`, inserted with count 0 if absent.
  uint64_t& Entry(NodeId node);

  GCounterEntries entries_;
};

}  // namespace crema::ping

#endif  // CREMA_NODE_PING_G_COUNTER_H_
