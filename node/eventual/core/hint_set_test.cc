#include "node/eventual/core/hint_set.h"

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace crema::eventual {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1'700'000'000);

Hint MakeHint(NodeId target, std::string key, int64_t version, absl::Time stored = kT0,
              std::string value = "v") {
  return Hint{target, std::move(key), Record{Version{version, 0, 9}, false, 0, std::move(value)},
              absl::ToUnixNanos(stored)};
}

TEST(HintSetTest, OneHintPerTargetAndKeyNewestWins) {
  HintSet hints(HintConfig{});
  EXPECT_EQ(hints.Add(MakeHint(2, "k", 10)), HintAddResult::kAdded);
  EXPECT_EQ(hints.Add(MakeHint(3, "k", 5)), HintAddResult::kAdded);
  EXPECT_EQ(hints.Add(MakeHint(2, "k", 9)), HintAddResult::kStale);
  Hint superseded;
  EXPECT_EQ(hints.Add(MakeHint(2, "k", 11), &superseded), HintAddResult::kReplaced);
  EXPECT_EQ(superseded.record.version.wall_ns, 10);
  EXPECT_EQ(hints.size(), 2u);
  EXPECT_EQ(hints.NewestForKey("k")->version.wall_ns, 11);
  EXPECT_FALSE(hints.NewestForKey("other").has_value());
  EXPECT_EQ(hints.Targets(), (std::vector<NodeId>{2, 3}));
  // Remove only if the stored hint is still the delivered version.
  EXPECT_FALSE(hints.Remove(2, "k", Version{10, 0, 9}));
  EXPECT_TRUE(hints.Remove(2, "k", Version{11, 0, 9}));
  EXPECT_EQ(hints.CountFor(2), 0u);
  EXPECT_EQ(hints.NewestForKey("k")->version.wall_ns, 5);
}

TEST(HintSetTest, BoundsRefuseNewHints) {
  HintSet hints(HintConfig{.max_hints = 2});
  EXPECT_EQ(hints.Add(MakeHint(2, "a", 1)), HintAddResult::kAdded);
  EXPECT_EQ(hints.Add(MakeHint(2, "b", 1)), HintAddResult::kAdded);
  EXPECT_EQ(hints.Add(MakeHint(2, "c", 1)), HintAddResult::kFull);
  EXPECT_EQ(hints.Add(MakeHint(2, "a", 2)), HintAddResult::kReplaced);
  HintSet bytes(HintConfig{.max_bytes = 200});
  EXPECT_EQ(bytes.Add(MakeHint(2, "a", 1, kT0, std::string(100, 'x'))), HintAddResult::kAdded);
  EXPECT_EQ(bytes.Add(MakeHint(2, "b", 1, kT0, std::string(100, 'x'))), HintAddResult::kFull);
}

TEST(HintSetTest, BatchesWalkOneTargetInKeyOrder) {
  HintSet hints(HintConfig{});
  for (int i = 0; i < 10; ++i) hints.Add(MakeHint(4, absl::StrCat("k", i), 1));
  hints.Add(MakeHint(5, "k0", 1));
  std::vector<Hint> first = hints.Batch(4, "", 4, 1 << 20);
  ASSERT_EQ(first.size(), 4u);
  EXPECT_EQ(first.front().key, "k0");
  std::vector<Hint> rest = hints.Batch(4, first.back().key, 100, 1 << 20);
  EXPECT_EQ(rest.size(), 6u);
  EXPECT_EQ(rest.back().key, "k9");
  // A byte budget smaller than one hint still yields one.
  EXPECT_EQ(hints.Batch(4, "", 100, 1).size(), 1u);
}

TEST(HintSetTest, ExpiredListsHintsOlderThanTheWindowOldestFirst) {
  HintSet hints(HintConfig{.window = absl::Minutes(10)});
  hints.Add(MakeHint(2, "new", 1, kT0));
  hints.Add(MakeHint(2, "old", 1, kT0 - absl::Minutes(20)));
  hints.Add(MakeHint(3, "older", 1, kT0 - absl::Minutes(30)));
  std::vector<Hint> expired = hints.Expired(kT0 + absl::Minutes(5), 10);
  ASSERT_EQ(expired.size(), 2u);
  EXPECT_EQ(expired[0].key, "older");
  EXPECT_EQ(expired[1].key, "old");
  EXPECT_EQ(hints.Expired(kT0 + absl::Minutes(10), 10).size(), 3u);
}

TEST(HintSetTest, EncodingRoundTripsAndRejectsGarbage) {
  const Hint hint = MakeHint(7, "some/key", 42, kT0, "value");
  Hint decoded;
  ASSERT_TRUE(HintSet::Decode(HintSet::Encode(hint), &decoded).ok());
  EXPECT_EQ(decoded, hint);
  EXPECT_FALSE(HintSet::Decode("", &decoded).ok());
  EXPECT_FALSE(HintSet::Decode(HintSet::Encode(hint) + "x", &decoded).ok());
  EXPECT_EQ(HintSet::StorageKey(0x2a, "k"), "0000002a/k");
}

}  // namespace
}  // namespace crema::eventual
