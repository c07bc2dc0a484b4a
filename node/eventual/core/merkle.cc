#include "node/eventual/core/merkle.h"

#include <cassert>

#include "node/random.h"

namespace crema::eventual {

uint32_t LeafOfKeyHash(uint64_t key_hash, int depth) {
  assert(depth >= 1 && depth <= kMaxTreeDepth);
  return static_cast<uint32_t>(MixSeed(key_hash) >> (64 - 4 * depth));
}

RangeTree::RangeTree(int depth) : depth_(depth) {
  assert(depth >= 1 && depth <= kMaxTreeDepth);
  levels_.resize(depth + 1);
  for (int level = 0; level <= depth; ++level) levels_[level].assign(NodesAtLevel(level), 0);
}

void RangeTree::Toggle(uint32_t leaf, uint64_t digest) {
  assert(leaf < NodesAtLevel(depth_));
  uint64_t& slot = levels_[depth_][leaf];
  const bool was_zero = slot == 0;
  slot ^= digest;
  if (was_zero && slot != 0) ++nonzero_leaves_;
  if (!was_zero && slot == 0) --nonzero_leaves_;
  uint32_t index = leaf;
  for (int level = depth_ - 1; level >= 0; --level) {
    index /= kTreeFanout;
    levels_[level][index] ^= digest;
  }
}

uint64_t RangeTree::Hash(int level, uint32_t index) const {
  assert(level >= 0 && level <= depth_ && index < NodesAtLevel(level));
  return levels_[level][index];
}

std::vector<uint64_t> RangeTree::ChildHashes(int level, uint32_t index) const {
  assert(level >= 0 && level < depth_ && index < NodesAtLevel(level));
  const std::vector<uint64_t>& below = levels_[level + 1];
  return std::vector<uint64_t>(below.begin() + index * kTreeFanout,
                               below.begin() + (index + 1) * kTreeFanout);
}

std::vector<uint32_t> RangeTree::DifferingChildren(int level, uint32_t index,
                                                   const std::vector<uint64_t>& theirs) const {
  assert(theirs.size() == static_cast<size_t>(kTreeFanout));
  std::vector<uint32_t> differing;
  const std::vector<uint64_t> mine = ChildHashes(level, index);
  for (int i = 0; i < kTreeFanout; ++i) {
    if (mine[i] != theirs[i]) differing.push_back(index * kTreeFanout + i);
  }
  return differing;
}

}  // namespace crema::eventual
