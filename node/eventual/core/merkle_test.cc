#include "node/eventual/core/merkle.h"

#include <algorithm>
#include <set>

#include "gtest/gtest.h"
#include "rapidcheck/gtest.h"

namespace crema::eventual {
namespace {

TEST(RangeTreeTest, ToggleTwiceRestoresAndInnerNodesAreXorsOfChildren) {
  RangeTree tree(2);
  EXPECT_TRUE(tree.empty());
  tree.Toggle(17, 0xabc);
  tree.Toggle(200, 0x123);
  EXPECT_EQ(tree.root(), 0xabcu ^ 0x123u);
  EXPECT_EQ(tree.Hash(1, 1), 0xabcu);  // leaf 17 is under node 1 of level 1
  EXPECT_EQ(tree.Hash(1, 12), 0x123u);  // leaf 200 under node 12
  EXPECT_EQ(tree.Hash(2, 17), 0xabcu);
  tree.Toggle(17, 0xabc);
  tree.Toggle(200, 0x123);
  EXPECT_TRUE(tree.empty());
}

TEST(RangeTreeTest, DifferingChildrenNamesOnlyTheRangesThatDiffer) {
  RangeTree a(2), b(2);
  for (uint32_t leaf = 0; leaf < 256; leaf += 7) {
    a.Toggle(leaf, leaf * 31 + 1);
    b.Toggle(leaf, leaf * 31 + 1);
  }
  b.Toggle(33, 99);  // node 2 at level 1
  b.Toggle(250, 5);  // node 15 at level 1
  EXPECT_NE(a.root(), b.root());
  EXPECT_EQ(a.DifferingChildren(0, 0, b.ChildHashes(0, 0)), (std::vector<uint32_t>{2, 15}));
  EXPECT_EQ(a.DifferingChildren(1, 2, b.ChildHashes(1, 2)), (std::vector<uint32_t>{33}));
  EXPECT_EQ(a.DifferingChildren(1, 15, b.ChildHashes(1, 15)), (std::vector<uint32_t>{250}));
  EXPECT_TRUE(a.DifferingChildren(1, 3, b.ChildHashes(1, 3)).empty());
}

TEST(RangeTreeTest, LeafOfKeyHashUsesTheWholeRange) {
  std::set<uint32_t> leaves;
  for (uint64_t h = 0; h < 20000; ++h) {
    const uint32_t leaf = LeafOfKeyHash(h * 0x9e3779b97f4a7c15ULL, 2);
    ASSERT_LT(leaf, 256u);
    leaves.insert(leaf);
  }
  EXPECT_EQ(leaves.size(), 256u);
}

RC_GTEST_PROP(RangeTreeProperty, SameSetSameTreeInAnyOrder, (std::vector<uint64_t> digests)) {
  RangeTree a(3), b(3);
  for (uint64_t d : digests) a.Toggle(static_cast<uint32_t>(d % 4096), d | 1);
  std::vector<uint64_t> shuffled = digests;
  std::reverse(shuffled.begin(), shuffled.end());
  for (uint64_t d : shuffled) b.Toggle(static_cast<uint32_t>(d % 4096), d | 1);
  for (int level = 0; level <= 3; ++level) {
    for (uint32_t i = 0; i < NodesAtLevel(level); i += 37) RC_ASSERT(a.Hash(level, i) == b.Hash(level, i));
  }
}

}  // namespace
}  // namespace crema::eventual
