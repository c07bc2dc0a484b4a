// Single-flight loading (GetWith): one loader per key, waiters completed together, errors not
// cached, loads overtaken by writes not installed.
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "cache/local_cache.h"
#include "gtest/gtest.h"
#include "node/clock.h"

namespace crema::cache {
namespace {

class LoadingTest : public ::testing::Test {
 protected:
  LoadingTest() : cache_(clock_, Options()) {}

  static CacheOptions Options() {
    CacheOptions options;
    options.max_weight = 100;
    return options;
  }

  // A loader that parks its completion, to be completed by the test later.
  Loader ParkingLoader() {
    return [this](std::string_view key, LoadCompletion completion) {
      ++loader_calls_;
      loaded_keys_.emplace_back(key);
      parked_.push_back(std::move(completion));
    };
  }

  // A LoadDone that records into results_[index].
  LoadDone Record(int index) {
    if (static_cast<int>(results_.size()) <= index) results_.resize(index + 1);
    return [this, index](const absl::StatusOr<std::string>& result) { results_[index] = result; };
  }

  ManualClock clock_;
  LocalCache cache_;
  int loader_calls_ = 0;
  std::vector<std::string> loaded_keys_;
  std::vector<LoadCompletion> parked_;
  std::vector<std::optional<absl::StatusOr<std::string>>> results_;
};

TEST_F(LoadingTest, ConcurrentRequestsCallTheLoaderOnceAndAllSeeTheValue) {
  for (int i = 0; i < 5; ++i) cache_.GetWith("k", ParkingLoader(), Record(i));
  EXPECT_EQ(loader_calls_, 1);
  EXPECT_EQ(cache_.inflight_loads(), 1);
  for (const auto& r : results_) EXPECT_FALSE(r.has_value()) << "completed before the load";
  clock_.Advance(absl::Milliseconds(30));
  parked_[0].Complete(std::string("value"));
  for (const auto& r : results_) {
    ASSERT_TRUE(r.has_value());
    ASSERT_TRUE(r->ok());
    EXPECT_EQ(**r, "value");
  }
  EXPECT_EQ(cache_.Get("k"), "value");
  EXPECT_EQ(cache_.inflight_loads(), 0);
  EXPECT_EQ(cache_.stats().load_successes, 1);
  EXPECT_EQ(cache_.stats().total_load_time, absl::Milliseconds(30));
  // Now a hit: no loader call, completed synchronously.
  cache_.GetWith("k", ParkingLoader(), Record(5));
  EXPECT_EQ(loader_calls_, 1);
  EXPECT_EQ(**results_[5], "value");
}

TEST_F(LoadingTest, FailureReachesAllWaitersAndIsNotCached) {
  for (int i = 0; i < 3; ++i) cache_.GetWith("k", ParkingLoader(), Record(i));
  parked_[0].Complete(absl::UnavailableError("backend down"));
  for (const auto& r : results_) {
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->status().code(), absl::StatusCode::kUnavailable);
  }
  EXPECT_EQ(cache_.stats().load_failures, 1);
  EXPECT_EQ(cache_.GetIfPresent("k"), nullptr);
  // The next request loads again.
  cache_.GetWith("k", ParkingLoader(), Record(3));
  EXPECT_EQ(loader_calls_, 2);
  parked_[1].Complete(std::string("v2"));
  EXPECT_EQ(**results_[3], "v2");
}

TEST_F(LoadingTest, DifferentKeysLoadIndependently) {
  cache_.GetWith("a", ParkingLoader(), Record(0));
  cache_.GetWith("b", ParkingLoader(), Record(1));
  EXPECT_EQ(loader_calls_, 2);
  parked_[1].Complete(std::string("B"));
  EXPECT_FALSE(results_[0].has_value());
  EXPECT_EQ(**results_[1], "B");
  parked_[0].Complete(std::string("A"));
  EXPECT_EQ(**results_[0], "A");
}

TEST_F(LoadingTest, SynchronousLoaderCompletesInsideGetWith) {
  cache_.GetWith(
      "k", [](std::string_view key, LoadCompletion c) { c.Complete(std::string(key) + "!"); },
      Record(0));
  ASSERT_TRUE(results_[0].has_value());
  EXPECT_EQ(**results_[0], "k!");
  EXPECT_EQ(cache_.Get("k"), "k!");
}

TEST_F(LoadingTest, DroppedCompletionFailsTheLoadWithCancelled) {
  cache_.GetWith("k", [](std::string_view, LoadCompletion) {}, Record(0));
  ASSERT_TRUE(results_[0].has_value());
  EXPECT_EQ(results_[0]->status().code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(cache_.inflight_loads(), 0);
}

TEST_F(LoadingTest, LoadOvertakenByAWriteDoesNotOverwriteIt) {
  cache_.GetWith("k", ParkingLoader(), Record(0));
  cache_.Put("k", "newer");
  parked_[0].Complete(std::string("stale"));
  EXPECT_EQ(**results_[0], "stale");  // The waiter still gets what it asked for...
  EXPECT_EQ(cache_.Get("k"), "newer");  // ...but the cache keeps the newer write.
}

TEST_F(LoadingTest, LoadOvertakenByInvalidationCachesNothing) {
  cache_.GetWith("k", ParkingLoader(), Record(0));
  cache_.Invalidate("k");
  parked_[0].Complete(std::string("stale"));
  EXPECT_EQ(cache_.GetIfPresent("k"), nullptr);
}

TEST_F(LoadingTest, WaiterMayCallBackIntoTheCache) {
  cache_.GetWith("k", ParkingLoader(), [this](const absl::StatusOr<std::string>&) {
    cache_.GetWith("k", ParkingLoader(), Record(0));  // Loads again: the first failed.
  });
  parked_[0].Complete(absl::InternalError("boom"));
  EXPECT_EQ(loader_calls_, 2);
  EXPECT_EQ(cache_.inflight_loads(), 1);
  parked_[1].Complete(std::string("ok"));
  EXPECT_EQ(**results_[0], "ok");
}

TEST(LoadingLifetimeTest, DestroyingTheCacheCancelsWaitersAndLateCompletionIsHarmless) {
  ManualClock clock;
  CacheOptions options;
  options.max_weight = 10;
  std::vector<LoadCompletion> parked;
  std::vector<absl::StatusCode> codes;
  {
    LocalCache cache(clock, std::move(options));
    for (const char* key : {"b", "a"}) {
      cache.GetWith(
          key, [&](std::string_view, LoadCompletion c) { parked.push_back(std::move(c)); },
          [&](const absl::StatusOr<std::string>& r) { codes.push_back(r.status().code()); });
    }
  }
  EXPECT_EQ(codes, std::vector<absl::StatusCode>(2, absl::StatusCode::kCancelled));
  parked[0].Complete(std::string("late"));  // Must not touch the destroyed cache.
}

}  // namespace
}  // namespace crema::cache
