#include "node/executor.h"

#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "node/sync.h"

namespace crema {
namespace {

// A minimal event loop over a ManualClock: timers ordered by (time, sequence).
class TestLoop final : public EventLoop {
 public:
  void Post(Callback cb) override { RunAfter(absl::ZeroDuration(), std::move(cb)); }
  TimerId RunAfter(absl::Duration delay, Callback cb) override {
    const TimerId id = next_id_++;
    queue_.emplace(std::make_pair(clock.MonotonicNow() + delay, id), std::move(cb));
    return id;
  }
  void Cancel(TimerId id) override {
    for (auto it = queue_.begin(); it != queue_.end(); ++it) {
      if (it->first.second == id) {
        queue_.erase(it);
        return;
      }
    }
  }
  // Runs events until none are left or `limit` is reached.
  int Run(int limit = 100000) {
    int n = 0;
    while (!queue_.empty() && n < limit) {
      auto node = queue_.extract(queue_.begin());
      const absl::Duration step = node.key().first - clock.MonotonicNow();
      if (step > absl::ZeroDuration()) clock.Advance(step);
      node.mapped()();
      ++n;
    }
    return n;
  }
  ManualClock clock;

 private:
  TimerId next_id_ = 1;
  std::map<std::pair<absl::Time, TimerId>, Callback> queue_;
};

class ExecutorTest : public ::testing::Test {
 protected:
  TestLoop loop;
  Executor executor{&loop, &loop.clock};
  absl::Time Start() const { return loop.clock.MonotonicNow(); }
};

TEST_F(ExecutorTest, SleepAdvancesVirtualTimeInOrder) {
  std::vector<std::string> order;
  const absl::Time t0 = Start();
  executor.Spawn("slow", [&] {
    ASSERT_TRUE(executor.Sleep(absl::Milliseconds(20)).ok());
    order.push_back("slow@" + std::to_string(absl::ToInt64Milliseconds(loop.clock.MonotonicNow() - t0)));
  });
  executor.Spawn("fast", [&] {
    ASSERT_TRUE(executor.Sleep(absl::Milliseconds(5)).ok());
    order.push_back("fast@" + std::to_string(absl::ToInt64Milliseconds(loop.clock.MonotonicNow() - t0)));
  });
  loop.Run();
  EXPECT_EQ(order, (std::vector<std::string>{"fast@5", "slow@20"}));
  EXPECT_EQ(executor.live_fibers(), 0u);
}

// Stacks of finished fibers are reused (executor.cc, FiberStackPool): waves of fibers, each wave
// larger than the pool and alive at once, each fiber filling a local buffer with its own pattern
// and checking it after others ran. A stack handed to two live fibers would fail the check.
TEST_F(ExecutorTest, ReusedStacksAreNeverShared) {
  const int kPerWave = static_cast<int>(Executor::kMaxPooledStackBytes / Executor::kDefaultStackBytes) + 64;
  int checked = 0;
  int intact = 0;
  for (int wave = 0; wave < 3; ++wave) {
    for (int f = 0; f < kPerWave; ++f) {
      executor.Spawn("stack-user", [&, tag = static_cast<unsigned char>(wave * 31 + f)] {
        unsigned char buffer[4096];
        for (unsigned char& b : buffer) b = tag;
        ASSERT_TRUE(executor.Sleep(absl::Milliseconds(1 + tag % 3)).ok());
        bool same = true;
        for (unsigned char b : buffer) same &= b == tag;
        ++checked;
        intact += same ? 1 : 0;
      });
    }
    loop.Run(10'000'000);
    EXPECT_EQ(executor.live_fibers(), 0u);
  }
  EXPECT_EQ(checked, 3 * kPerWave);
  EXPECT_EQ(intact, checked);
}

TEST_F(ExecutorTest, ChannelPassesValuesAndTimesOut) {
  Channel<int> channel(&executor, 2);
  std::vector<int> got;
  absl::Status last;
  executor.Spawn("receiver", [&] {
    for (int i = 0; i < 3; ++i) {
      absl::StatusOr<int> v = channel.Recv(absl::Milliseconds(50));
      if (!v.ok()) {
        last = v.status();
        return;
      }
      got.push_back(*v);
    }
  });
  executor.Spawn("sender", [&] {
    ASSERT_TRUE(channel.Send(1).ok());
    ASSERT_TRUE(executor.Sleep(absl::Milliseconds(10)).ok());
    ASSERT_TRUE(channel.Send(2).ok());
  });
  loop.Run();
  EXPECT_EQ(got, (std::vector<int>{1, 2}));
  EXPECT_TRUE(absl::IsDeadlineExceeded(last)) << last;
}

TEST_F(ExecutorTest, BoundedChannelBlocksSenderUntilRoom) {
  Channel<int> channel(&executor, 1);
  std::vector<std::string> log;
  executor.Spawn("sender", [&] {
    ASSERT_TRUE(channel.Send(1).ok());
    log.push_back("sent1");
    EXPECT_FALSE(channel.TrySend(2));  // full
    ASSERT_TRUE(channel.Send(2).ok());  // waits for the receiver
    log.push_back("sent2");
    EXPECT_TRUE(absl::IsDeadlineExceeded(channel.Send(3, absl::Milliseconds(1))));
  });
  executor.Spawn("receiver", [&] {
    ASSERT_TRUE(executor.Sleep(absl::Milliseconds(5)).ok());
    log.push_back("recv" + std::to_string(*channel.Recv()));
  });
  loop.Run();
  EXPECT_EQ(log, (std::vector<std::string>{"sent1", "recv1", "sent2"}));
  EXPECT_EQ(channel.size(), 1u);
}

TEST_F(ExecutorTest, CloseWakesReceiversWithFailedPrecondition) {
  Channel<int> channel(&executor, 4);
  absl::Status status;
  executor.Spawn("receiver", [&] { status = channel.Recv().status(); });
  executor.Spawn("closer", [&] { channel.Close(); });
  loop.Run();
  EXPECT_TRUE(absl::IsFailedPrecondition(status)) << status;
}

TEST_F(ExecutorTest, FutureDeliversToManyWaiters) {
  Promise<std::string> promise(&executor);
  Future<std::string> future = promise.GetFuture();
  int received = 0;
  for (int i = 0; i < 3; ++i) {
    executor.Spawn("waiter", [&] {
      absl::StatusOr<std::string> v = future.Wait(absl::Seconds(1));
      ASSERT_TRUE(v.ok()) << v.status();
      EXPECT_EQ(*v, "done");
      ++received;
    });
  }
  executor.Spawn("setter", [&] {
    ASSERT_TRUE(executor.Sleep(absl::Milliseconds(3)).ok());
    promise.Set(std::string("done"));
  });
  loop.Run();
  EXPECT_EQ(received, 3);
}

TEST_F(ExecutorTest, BrokenPromiseIsAborted) {
  auto promise = std::make_unique<Promise<int>>(&executor);
  Future<int> future = promise->GetFuture();
  absl::Status status;
  executor.Spawn("waiter", [&] { status = future.Wait().status(); });
  executor.Spawn("dropper", [&] { promise.reset(); });
  loop.Run();
  EXPECT_TRUE(absl::IsAborted(status)) << status;
}

TEST_F(ExecutorTest, CancelInterruptsSleepAndLaterCalls) {
  absl::Status first, second;
  const FiberId id = executor.Spawn("sleeper", [&] {
    first = executor.Sleep(absl::Hours(1));
    second = executor.Sleep(absl::Milliseconds(1));
  });
  executor.Spawn("canceller", [&] {
    ASSERT_TRUE(executor.Sleep(absl::Milliseconds(1)).ok());
    executor.Cancel(id);
  });
  loop.Run();
  EXPECT_TRUE(absl::IsCancelled(first)) << first;
  EXPECT_TRUE(absl::IsCancelled(second)) << second;
  EXPECT_LT(loop.clock.MonotonicNow() - Start(), absl::Minutes(1));
}

TEST_F(ExecutorTest, TimedOutWaitsDoNotAccumulate) {
  Channel<int> channel(&executor, 1);
  int timeouts = 0;
  executor.Spawn("poller", [&] {
    for (int i = 0; i < 1000; ++i) {
      if (absl::IsDeadlineExceeded(channel.Recv(absl::Milliseconds(1)).status())) ++timeouts;
    }
    // The one real value still wakes exactly this receiver.
    EXPECT_FALSE(channel.Recv(absl::Milliseconds(1)).ok());
  });
  loop.Run();
  EXPECT_EQ(timeouts, 1000);
}

struct DestructorProbe {
  int* count;
  ~DestructorProbe() { ++*count; }
};

TEST(ExecutorCrashTest, DestroyingExecutorUnwindsSuspendedFibers) {
  TestLoop loop;
  int destroyed = 0;
  bool ran_past_sleep = false;
  {
    Executor executor(&loop, &loop.clock);
    for (int i = 0; i < 3; ++i) {
      executor.Spawn("victim", [&] {
        DestructorProbe probe{&destroyed};
        (void)executor.Sleep(absl::Hours(1));
        ran_past_sleep = true;
      });
    }
    loop.Run(/*limit=*/1);  // one pass: all three start and park in Sleep
    EXPECT_EQ(executor.live_fibers(), 3u);
    executor.Spawn("never-started", [&] { ran_past_sleep = true; });
    EXPECT_EQ(executor.live_fibers(), 4u);
  }  // crash
  EXPECT_EQ(destroyed, 3);
  loop.Run();  // the sleepers' timers fire into nothing
  EXPECT_FALSE(ran_past_sleep);
}

TEST(ExecutorCrashTest, UnwoundWaitersLeaveListsThatOutliveTheExecutor) {
  TestLoop loop;
  WaitList outliving_list;  // e.g. the state of a Promise held outside the crashed node
  std::optional<Promise<int>> outliving_promise;
  {
    Executor executor(&loop, &loop.clock);
    outliving_promise.emplace(&executor);
    Future<int> future = outliving_promise->GetFuture();
    executor.Spawn("list-waiter", [&] { (void)executor.Wait(outliving_list, absl::InfiniteFuture()); });
    executor.Spawn("future-waiter", [future] { (void)future.Wait(absl::Seconds(5)); });
    loop.Run(/*limit=*/1);
    EXPECT_FALSE(outliving_list.empty());
  }  // crash: both fibers are unwound inside their waits
  EXPECT_TRUE(outliving_list.empty());
  outliving_promise->Set(7);  // must not touch the destroyed executor (ASan/valgrind would see it)
  outliving_promise.reset();
  loop.Run();
}

TEST_F(ExecutorTest, YieldLetsOthersRun) {
  std::vector<int> order;
  executor.Spawn("a", [&] {
    order.push_back(1);
    ASSERT_TRUE(executor.Yield().ok());
    order.push_back(3);
  });
  executor.Spawn("b", [&] { order.push_back(2); });
  loop.Run();
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
}

}  // namespace
}  // namespace crema
