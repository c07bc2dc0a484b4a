// RangeTree: the hash tree over one key range (a shard) that anti-entropy compares between
// replicas, so that only the ranges that differ — and then only the keys that differ — travel.
//
// Shape: a complete tree of fan-out 16 and `depth` levels below the root (depth 1..4, so 16 to
// 65,536 leaves). A key lives in the leaf given by the top 4·depth bits of a remix of its key hash
// (independent of the hash's low bits, which choose its shard). Each leaf holds the XOR of
// `LeafDigest(key, record)` over the keys in it, and each inner node the XOR of its children — the
// "TicTac" variant of a Merkle tree used by Riak's kv_index_tictactree: XOR is its own inverse, so
// a write updates the tree in O(depth) by XORing out the old record's digest and XORing in the new
// one, with no rebuild and no rescan. (Cryptographic strength is not needed: the tree is compared
// between trusted replicas; a 64-bit XOR collision only delays a repair until the next write to
// the range.)
//
// Memory: (16^(depth+1) − 1) / 15 u64 per tree: 273 (2.2 KiB) at depth 2, 4,369 (35 KiB) at 3.
//
// Thread safety: a value type with no internal synchronisation.
#ifndef CREMA_NODE_EVENTUAL_CORE_MERKLE_H_
#define CREMA_NODE_EVENTUAL_CORE_MERKLE_H_

#include <cstdint>
#include <vector>

namespace crema::eventual {

inline constexpr int kTreeFanout = 16;
inline constexpr int kMaxTreeDepth = 4;

// The leaf (at `depth`) of a key with this key hash. REQUIRES: 1 <= depth <= kMaxTreeDepth.
uint32_t LeafOfKeyHash(uint64_t key_hash, int depth);

// Number of nodes at `level` (16^level).
inline uint32_t NodesAtLevel(int level) { return uint32_t{1} << (4 * level); }

class RangeTree {
 public:
  // REQUIRES: 1 <= depth <= kMaxTreeDepth.
  explicit RangeTree(int depth);

  // XORs `digest` into `leaf` and every ancestor (adds a record's digest, or removes it again).
  // REQUIRES: leaf < NodesAtLevel(depth).
  void Toggle(uint32_t leaf, uint64_t digest);

  // The hash of node `index` at `level` (0 = root). REQUIRES: level <= depth, index in range.
  uint64_t Hash(int level, uint32_t index) const;
  uint64_t root() const { return levels_[0][0]; }
  int depth() const { return depth_; }
  bool empty() const { return root() == 0 && nonzero_leaves_ == 0; }

  // Indexes of the children of node `index` at `level` whose hashes differ from `theirs` (their
  // 16 child hashes, in order). REQUIRES: level < depth, theirs.size() == kTreeFanout.
  std::vector<uint32_t> DifferingChildren(int level, uint32_t index,
                                          const std::vector<uint64_t>& theirs) const;
  // The 16 child hashes of node `index` at `level`. REQUIRES: level < depth.
  std::vector<uint64_t> ChildHashes(int level, uint32_t index) const;

 private:
  int depth_;
  std::vector<std::vector<uint64_t>> levels_;  // levels_[l].size() == 16^l
  uint32_t nonzero_leaves_ = 0;
};

}  // namespace crema::eventual

#endif  // CREMA_NODE_EVENTUAL_CORE_MERKLE_H_
