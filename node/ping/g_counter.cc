#include "node/ping/g_counter.h"

#include <algorithm>
#include <cassert>

namespace crema::ping {

void GCounter::Increment(NodeId node, uint64_t amount) {
  assert(node != kNoNode);
  entries_[node] += amount;
  assert(entries_.size() <= kMaxEntries);
}

void GCounter::MergeEntry(NodeId node, uint64_t count) {
  assert(node != kNoNode);
  uint64_t& entry = entries_[node];
  entry = std::max(entry, count);
  assert(entries_.size() <= kMaxEntries);
}

bool GCounter::Merge(const GCounter& other) {
  bool grew = false;
  for (const auto& [node, count] : other.entries_) {
    if (Get(node) < count) {
      MergeEntry(node, count);
      grew = true;
    }
  }
  return grew;
}

uint64_t GCounter::Get(NodeId node) const {
  auto it = entries_.find(node);
  return it == entries_.end() ? 0 : it->second;
}

uint64_t GCounter::Total() const {
  uint64_t total = 0;
  for (const auto& [node, count] : entries_) total += count;
  return total;
}

}  // namespace crema::ping
