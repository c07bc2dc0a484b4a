#include "cache/timer_wheel.h"

#include <cstdint>
#include <memory>
#include <vector>

#include "gtest/gtest.h"
#include "node/random.h"
#include "sim/test_seed.h"

namespace crema::cache {
namespace {

constexpr int64_t kSecond = 1'000'000'000;
constexpr int64_t kMinute = 60 * kSecond;
constexpr int64_t kHour = 60 * kMinute;
constexpr int64_t kDay = 24 * kHour;
constexpr int64_t kLevel0Bucket = int64_t{1} << TimerWheel::kLevel0Shift;

// A wheel plus nodes, recording which expired and checking none expires early or twice.
class Harness {
 public:
  explicit Harness(int64_t start_ns) : wheel_(start_ns) {}
  ~Harness() {
    for (auto& node : nodes_) {
      if (node->linked()) wheel_.Unschedule(node.get());
    }
  }

  TimerNode* Add(int64_t deadline_ns) {
    nodes_.push_back(std::make_unique<TimerNode>());
    nodes_.back()->deadline_ns = deadline_ns;
    wheel_.Schedule(nodes_.back().get());
    return nodes_.back().get();
  }

  void Advance(int64_t now_ns) {
    wheel_.Advance(now_ns, [&](TimerNode* n) { Expired(n); });
  }
  void ExpireDue(int64_t now_ns) {
    wheel_.ExpireDue(now_ns, [&](TimerNode* n) { Expired(n); });
  }

  bool IsExpired(const TimerNode* n) const {
    for (const TimerNode* e : expired_) {
      if (e == n) return true;
    }
    return false;
  }
  // Every node due by now has expired and every other is still scheduled.
  void ExpectExactlyDue() const {
    for (const auto& node : nodes_) {
      const bool due = node->deadline_ns <= wheel_.now_ns();
      EXPECT_EQ(IsExpired(node.get()), due) << "deadline " << node->deadline_ns << " now "
                                            << wheel_.now_ns();
      EXPECT_EQ(node->linked(), !due);
    }
  }

  TimerWheel& wheel() { return wheel_; }
  const std::vector<TimerNode*>& expired() const { return expired_; }

 private:
  void Expired(TimerNode* n) {
    EXPECT_FALSE(n->linked());
    EXPECT_LE(n->deadline_ns, wheel_.now_ns()) << "expired early";
    EXPECT_FALSE(IsExpired(n)) << "expired twice";
    expired_.push_back(n);
  }

  TimerWheel wheel_;
  std::vector<std::unique_ptr<TimerNode>> nodes_;
  std::vector<TimerNode*> expired_;
};

TEST(TimerWheelTest, NodesGoToTheLevelThatCoversTheirRemainingTime) {
  Harness h(0);
  EXPECT_EQ(h.wheel().LocationOf(h.Add(2 * kSecond)).level, 0);
  EXPECT_EQ(h.wheel().LocationOf(h.Add(10 * kMinute)).level, 1);
  EXPECT_EQ(h.wheel().LocationOf(h.Add(5 * kHour)).level, 2);
  EXPECT_EQ(h.wheel().LocationOf(h.Add(10 * kDay)).level, 3);
  EXPECT_EQ(h.wheel().LocationOf(h.Add(1000 * kDay)).level, TimerWheel::kLevels);  // Overflow.
  EXPECT_EQ(h.wheel().size(), 5);
}

TEST(TimerWheelTest, ExpiresWithinOneLevel0BucketOfTheDeadline) {
  Harness h(0);
  TimerNode* n = h.Add(5 * kSecond + 123);
  h.Advance(5 * kSecond);
  EXPECT_FALSE(h.IsExpired(n));
  h.Advance(5 * kSecond + 123 + kLevel0Bucket);
  EXPECT_TRUE(h.IsExpired(n));
}

TEST(TimerWheelTest, ExpireDueIsExactAtTheDeadline) {
  Harness h(0);
  TimerNode* n = h.Add(3 * kSecond);
  h.ExpireDue(3 * kSecond - 1);
  EXPECT_FALSE(h.IsExpired(n));
  h.ExpireDue(3 * kSecond);
  EXPECT_TRUE(h.IsExpired(n));
}

TEST(TimerWheelTest, TimeThatDoesNotMoveExpiresNothingNewAndDueNodesOnce) {
  Harness h(10 * kSecond);
  TimerNode* now = h.Add(10 * kSecond);  // Due at once.
  TimerNode* later = h.Add(11 * kSecond);
  for (int i = 0; i < 5; ++i) h.ExpireDue(10 * kSecond);
  EXPECT_TRUE(h.IsExpired(now));
  EXPECT_FALSE(h.IsExpired(later));
  EXPECT_EQ(h.expired().size(), 1u);
  h.Advance(9 * kSecond);  // Going back is ignored.
  EXPECT_EQ(h.wheel().now_ns(), 10 * kSecond);
}

TEST(TimerWheelTest, DeadlineInThePastIsExpiredByTheNextAdvance) {
  Harness h(100 * kSecond);
  TimerNode* n = h.Add(1 * kSecond);
  h.Advance(100 * kSecond + kLevel0Bucket);
  EXPECT_TRUE(h.IsExpired(n));
}

TEST(TimerWheelTest, WrapsAroundTheEndOfEveryLevel) {
  // Start just before level 0 bucket 63 ends, and level 1 bucket 63 ends too.
  const int64_t start = (int64_t{64} << (TimerWheel::kLevel0Shift + 6)) - 2 * kLevel0Bucket;
  Harness h(start);
  std::vector<TimerNode*> nodes;
  for (int64_t d : {kSecond, 3 * kSecond, 70 * kSecond, 3 * kMinute, 2 * kHour}) {
    nodes.push_back(h.Add(start + d));
  }
  for (int64_t t = start; t <= start + 3 * kHour; t += 7 * kSecond) {
    h.ExpireDue(t);
    h.ExpectExactlyDue();
  }
  EXPECT_EQ(h.expired().size(), nodes.size());
}

TEST(TimerWheelTest, FarFutureBeyondTheTopLevelExpiresOnTime) {
  Harness h(0);
  TimerNode* far = h.Add(400 * kDay + 17 * kSecond);
  TimerNode* farther = h.Add(5000 * kDay);
  for (int64_t t = 0; t < 400 * kDay; t += kDay) {
    h.Advance(t);
    ASSERT_FALSE(h.IsExpired(far)) << "at day " << t / kDay;
  }
  h.ExpireDue(400 * kDay + 17 * kSecond - 1);
  EXPECT_FALSE(h.IsExpired(far));
  h.ExpireDue(400 * kDay + 17 * kSecond);
  EXPECT_TRUE(h.IsExpired(far));
  EXPECT_FALSE(h.IsExpired(farther));
  h.ExpireDue(5000 * kDay);
  EXPECT_TRUE(h.IsExpired(farther));
}

TEST(TimerWheelTest, ClockJumpForwardByDaysExpiresExactlyTheDueNodes) {
  Harness h(0);
  for (int64_t d : {kSecond, kMinute, kHour, kDay, 2 * kDay, 3 * kDay, 30 * kDay, 300 * kDay}) {
    h.Add(d);
    h.Add(d + 1);
  }
  h.ExpireDue(2 * kDay);
  h.ExpectExactlyDue();
  h.ExpireDue(31 * kDay);
  h.ExpectExactlyDue();
  h.ExpireDue(1000 * kDay);
  h.ExpectExactlyDue();
  EXPECT_EQ(h.wheel().size(), 0);
}

TEST(TimerWheelTest, RandomScheduleMatchesBruteForce) {
  for (uint64_t seed : sim::TestSeeds(20)) {
    Random random(seed);
    const int64_t start = random.Range(0, 100 * kDay);
    Harness h(start);
    int64_t now = start;
    for (int step = 0; step < 300; ++step) {
      // Add a few nodes at spread-out horizons, then move time by a spread-out amount.
      for (int i = 0; i < 3; ++i) {
        const int64_t horizon = int64_t{1} << random.Range(0, 56);
        h.Add(now + random.Range(0, horizon));
      }
      const int64_t jump = random.OneIn(10) ? 0 : int64_t{1} << random.Range(20, 50);
      now += random.Range(0, jump);
      if (random.OneIn(2)) {
        h.ExpireDue(now);
        h.ExpectExactlyDue();
      } else {
        h.Advance(now);
      }
      if (testing::Test::HasFailure()) {
        FAIL() << "seed " << seed << ": " << sim::ReproCommand(seed);
      }
    }
  }
}

}  // namespace
}  // namespace crema::cache
