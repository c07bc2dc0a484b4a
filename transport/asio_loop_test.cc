// Tests of AsioLoop on its own and of the fiber Executor (node/executor.h) running on it.
#include "transport/asio_loop.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "node/executor.h"
#include "node/sync.h"
#include "transport/real_clock.h"

namespace crema::transport {
namespace {

constexpr absl::Duration kTestTimeout = absl::Seconds(10);  // generous: loaded CI machines

TEST(AsioLoopTest, PostsRunInFifoOrderAfterTheCurrentCallback) {
  AsioLoop loop;
  std::vector<int> order;
  loop.Post([&] {
    loop.Post([&] { order.push_back(3); });
    order.push_back(1);
  });
  loop.Post([&] { order.push_back(2); });
  ASSERT_TRUE(loop.RunUntil([&] { return order.size() == 3; }, kTestTimeout));
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
}

TEST(AsioLoopTest, TimersFireInDeadlineOrderAndNotEarly) {
  AsioLoop loop;
  RealClock clock;
  const absl::Time start = clock.MonotonicNow();
  std::vector<std::pair<int, absl::Duration>> fired;
  for (int ms : {30, 10, 20}) {
    loop.RunAfter(absl::Milliseconds(ms),
                  [&, ms] { fired.emplace_back(ms, clock.MonotonicNow() - start); });
  }
  ASSERT_TRUE(loop.RunUntil([&] { return fired.size() == 3; }, kTestTimeout));
  ASSERT_EQ(fired.size(), 3u);
  EXPECT_EQ(fired[0].first, 10);
  EXPECT_EQ(fired[1].first, 20);
  EXPECT_EQ(fired[2].first, 30);
  for (auto [ms, elapsed] : fired) EXPECT_GE(elapsed, absl::Milliseconds(ms)) << ms;
  EXPECT_EQ(loop.pending_timers(), 0u);
}

TEST(AsioLoopTest, CancelledTimerNeverRuns) {
  AsioLoop loop;
  bool cancelled_ran = false;
  bool later_ran = false;
  const EventLoop::TimerId id = loop.RunAfter(absl::Milliseconds(5), [&] { cancelled_ran = true; });
  loop.RunAfter(absl::Milliseconds(30), [&] { later_ran = true; });
  loop.Cancel(id);
  loop.Cancel(id);      // a second cancel is a no-op
  loop.Cancel(12345);   // as is cancelling an unknown id
  ASSERT_TRUE(loop.RunUntil([&] { return later_ran; }, kTestTimeout));
  EXPECT_FALSE(cancelled_ran);
}

TEST(AsioLoopTest, StopEndsRunAndPendingCallbacksDieWithTheLoop) {
  bool ran_after_stop = false;
  {
    AsioLoop loop;
    loop.Post([&] { loop.Stop(); });
    loop.RunAfter(absl::Hours(1), [&] { ran_after_stop = true; });
    loop.Run();  // returns because of Stop
  }
  EXPECT_FALSE(ran_after_stop);
}

TEST(AsioLoopTest, RunUntilTimesOut) {
  AsioLoop loop;
  RealClock clock;
  const absl::Time start = clock.MonotonicNow();
  EXPECT_FALSE(loop.RunUntil([] { return false; }, absl::Milliseconds(50)));
  EXPECT_GE(clock.MonotonicNow() - start, absl::Milliseconds(50));
}

TEST(RealClockTest, MonotonicNeverDecreasesAndWallIsNearUnixNow) {
  RealClock clock;
  absl::Time last = clock.MonotonicNow();
  for (int i = 0; i < 1000; ++i) {
    const absl::Time now = clock.MonotonicNow();
    ASSERT_GE(now, last);
    last = now;
  }
  EXPECT_GT(clock.Now(), absl::FromCivil(absl::CivilDay(2020, 1, 1), absl::UTCTimeZone()));
}

class ExecutorOnAsioTest : public ::testing::Test {
 protected:
  AsioLoop loop;
  RealClock clock;
  Executor executor{&loop, &clock};
};

TEST_F(ExecutorOnAsioTest, FibersSleepRealTimeInOrder) {
  std::vector<std::string> order;
  const absl::Time start = clock.MonotonicNow();
  absl::Duration slow_elapsed;
  executor.Spawn("slow", [&] {
    ASSERT_TRUE(executor.Sleep(absl::Milliseconds(40)).ok());
    slow_elapsed = clock.MonotonicNow() - start;
    order.push_back("slow");
  });
  executor.Spawn("fast", [&] {
    ASSERT_TRUE(executor.Sleep(absl::Milliseconds(10)).ok());
    order.push_back("fast");
  });
  ASSERT_TRUE(loop.RunUntil([&] { return executor.live_fibers() == 0; }, kTestTimeout));
  EXPECT_EQ(order, (std::vector<std::string>{"fast", "slow"}));
  EXPECT_GE(slow_elapsed, absl::Milliseconds(40));
}

TEST_F(ExecutorOnAsioTest, ChannelsWorkAcrossFibersAndLoopCallbacks) {
  Channel<int> channel(&executor, 4);
  std::vector<int> got;
  absl::Status timeout;
  executor.Spawn("receiver", [&] {
    while (true) {
      absl::StatusOr<int> v = channel.Recv(absl::Milliseconds(100));
      if (!v.ok()) {
        timeout = v.status();
        return;
      }
      got.push_back(*v);
    }
  });
  // Values arrive from plain loop callbacks (as network handlers would send them) and a fiber.
  loop.RunAfter(absl::Milliseconds(5), [&] { EXPECT_TRUE(channel.TrySend(1)); });
  loop.RunAfter(absl::Milliseconds(15), [&] { EXPECT_TRUE(channel.TrySend(2)); });
  executor.Spawn("sender", [&] {
    ASSERT_TRUE(executor.Sleep(absl::Milliseconds(25)).ok());
    ASSERT_TRUE(channel.Send(3).ok());
  });
  ASSERT_TRUE(loop.RunUntil([&] { return executor.live_fibers() == 0; }, kTestTimeout));
  EXPECT_EQ(got, (std::vector<int>{1, 2, 3}));
  EXPECT_TRUE(absl::IsDeadlineExceeded(timeout)) << timeout;
}

TEST_F(ExecutorOnAsioTest, CancelWakesALongSleepAtOnce) {
  absl::Status status;
  const FiberId sleeper = executor.Spawn("sleeper", [&] { status = executor.Sleep(absl::Hours(1)); });
  loop.RunAfter(absl::Milliseconds(5), [&] { executor.Cancel(sleeper); });
  const absl::Time start = clock.MonotonicNow();
  ASSERT_TRUE(loop.RunUntil([&] { return executor.live_fibers() == 0; }, kTestTimeout));
  EXPECT_TRUE(absl::IsCancelled(status)) << status;
  EXPECT_LT(clock.MonotonicNow() - start, kTestTimeout);
  EXPECT_EQ(loop.pending_timers(), 0u);  // the sleep's timer was cancelled, not left behind
}

}  // namespace
}  // namespace crema::transport
