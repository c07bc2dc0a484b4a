#include "node/ping/g_counter.h"

#include <algorithm>
#include <cassert>

namespace crema::ping {
namespace {

bool NodeLess(const GCounterEntries::value_type& entry, NodeId node) { return entry.first < node; }

}  // namespace

bool GCounterEntries::contains(NodeId node) const {
  auto it = std::lower_bound(entries_.begin(), entries_.end(), node, NodeLess);
  return it != entries_.end() && it->first == node;
}

uint64_t& GCounter::Entry(NodeId node) {
  assert(node != kNoNode);
  std::vector<GCounterEntries::value_type>& v = entries_.entries_;
  if (v.empty() || v.back().first < node) {
    if (v.empty()) v.reserve(8);  // clusters are small: one allocation
    v.emplace_back(node, 0);      // ascending appends need no search
    assert(v.size() <= kMaxEntries);
    return v.back().second;
  }
  auto it = std::lower_bound(v.begin(), v.end(), node, NodeLess);
  if (it == v.end() || it->first != node) it = v.emplace(it, node, 0);
  assert(v.size() <= kMaxEntries);
  return it->second;
}

void GCounter::Increment(NodeId node, uint64_t amount) { Entry(node) += amount; }

void GCounter::MergeEntry(NodeId node, uint64_t count) {
  uint64_t& entry = Entry(node);
  entry = std::max(entry, count);
}

bool GCounter::Merge(const GCounter& other) {
  // Both sides are sorted: one merge pass.
  const std::vector<GCounterEntries::value_type>& theirs = other.entries_.entries_;
  std::vector<GCounterEntries::value_type>& mine = entries_.entries_;
  bool grew = false;
  size_t i = 0;
  for (const auto& [node, count] : theirs) {
    while (i < mine.size() && mine[i].first < node) ++i;
    if (i < mine.size() && mine[i].first == node) {
      if (mine[i].second < count) {
        mine[i].second = count;
        grew = true;
      }
    } else {
      mine.emplace(mine.begin() + static_cast<std::ptrdiff_t>(i), node, count);
      grew = true;
    }
    ++i;
  }
  assert(mine.size() <= kMaxEntries);
  return grew;
}

uint64_t GCounter::Get(NodeId node) const {
  const std::vector<GCounterEntries::value_type>& v = entries_.entries_;
  auto it = std::lower_bound(v.begin(), v.end(), node, NodeLess);
  return it == v.end() || it->first != node ? 0 : it->second;
}

uint64_t GCounter::Total() const {
  uint64_t total = 0;
  for (const auto& [node, count] : entries_) total += count;
  return total;
}

}  // namespace crema::ping
