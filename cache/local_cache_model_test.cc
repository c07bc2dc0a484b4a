// Model-based property tests: random operation sequences (RapidCheck) run against LocalCache and
// a simple reference model kept in step by the removal listener.
//
// Properties, checked after every operation:
//   * weight never exceeds the capacity (count or weight), and internal invariants hold;
//   * a read returns exactly the model's latest live value: never an expired entry, never a stale
//     or invented one, and never a miss for an entry that was not reported removed;
//   * the listener is called exactly once per removed entry, with the right cause (kReplaced for
//     a put over a live value, kExpired only after the deadline, kExplicit only for invalidations,
//     kSize only while a put makes room), so the model and the cache hold the same entries.
//
// Seeds: RapidCheck's seed comes from crema::sim::TestSeed() (CREMA_SEED), see main() below.
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "absl/strings/str_cat.h"
#include "cache/local_cache.h"
#include "gtest/gtest.h"
#include "node/clock.h"
#include "rapidcheck.h"
#include "rapidcheck/gtest.h"
#include "sim/test_seed.h"

namespace crema::cache {
namespace {

constexpr int64_t kNever = std::numeric_limits<int64_t>::max();
constexpr int64_t kMs = 1'000'000;

int64_t DeadlineAfter(int64_t now, int64_t d) {
  if (d == kNever) return kNever;
  return d <= 0 ? now : now + d;
}

struct ModelEntry {
  std::string value;
  int64_t write_deadline;
  int64_t variable_deadline;
  int64_t deadline;
};

enum class OpKind { kPut, kPutTtl, kGet, kInvalidate, kInvalidateAll, kInvalidateIfOdd,
                    kAdvance, kCleanUp, kJump };

// Operation mix: mostly puts, reads and small time steps; rarely a clear-all or a jump of hours.
OpKind KindOf(uint8_t selector) {
  static constexpr OpKind kMix[] = {
      OpKind::kPut,     OpKind::kPut,        OpKind::kPut,        OpKind::kPut,
      OpKind::kPutTtl,  OpKind::kPutTtl,     OpKind::kGet,        OpKind::kGet,
      OpKind::kGet,     OpKind::kGet,        OpKind::kGet,        OpKind::kInvalidate,
      OpKind::kInvalidateIfOdd, OpKind::kAdvance, OpKind::kAdvance, OpKind::kAdvance,
      OpKind::kAdvance, OpKind::kCleanUp,    OpKind::kInvalidateAll, OpKind::kJump};
  constexpr int kMixSize = sizeof(kMix) / sizeof(kMix[0]);
  const OpKind kind = kMix[selector % kMixSize];
  // Halve the odds of the two most destructive operations.
  if ((kind == OpKind::kInvalidateAll || kind == OpKind::kJump) && selector >= 128) {
    return OpKind::kGet;
  }
  return kind;
}

struct Config {
  int64_t max_weight;
  bool weighted;
  int64_t ttl_ns;  // kNever for none.
  int64_t tti_ns;
};

class ModelChecker {
 public:
  explicit ModelChecker(const Config& config) : config_(config) {
    CacheOptions options;
    options.max_weight = config.max_weight;
    if (config.weighted) {
      options.weigher = [](std::string_view k, std::string_view v) {
        return static_cast<uint32_t>(k.size() + v.size());
      };
    }
    if (config.ttl_ns != kNever) options.expire_after_write = absl::Nanoseconds(config.ttl_ns);
    if (config.tti_ns != kNever) options.expire_after_access = absl::Nanoseconds(config.tti_ns);
    options.removal_listener = [this](std::string_view k, std::string_view v, RemovalCause c) {
      OnRemoval(std::string(k), std::string(v), c);
    };
    // Exercise every window adaptation (in short runs: tiny climber samples; small caches, so the
    // mini-simulation's shadows see every read and switch configurations often).
    static constexpr WindowAdaptation kAdaptations[] = {WindowAdaptation::kMiniSimulation,
                                                         WindowAdaptation::kShadowQueues,
                                                         WindowAdaptation::kHillClimbing};
    options.window_adaptation = kAdaptations[config.max_weight % 3];
    options.climber_sample_size = 16;
    cache_.emplace(clock_, std::move(options));
  }

  void Run(OpKind kind, const std::string& key, const std::string& value, int64_t amount) {
    op_ = kind;
    op_key_ = key;
    switch (kind) {
      case OpKind::kPut:
        Put(key, value, std::nullopt);
        break;
      case OpKind::kPutTtl:
        Put(key, value, amount * 8 * kMs);  // Up to ~2 s.
        break;
      case OpKind::kGet:
        Get(key);
        break;
      case OpKind::kInvalidate: {
        const bool live = LiveInModel(key);
        RC_ASSERT(cache_->Invalidate(key) == live);
        break;
      }
      case OpKind::kInvalidateAll:
        cache_->InvalidateAll();
        RC_ASSERT(model_.empty());
        break;
      case OpKind::kInvalidateIfOdd:
        cache_->InvalidateIf([](std::string_view, std::string_view v) { return v.size() % 2; });
        for (const auto& [k, e] : model_) RC_ASSERT(e.value.size() % 2 == 0);
        break;
      case OpKind::kAdvance:
        Advance(amount * 4 * kMs);  // Up to ~1 s.
        break;
      case OpKind::kJump:
        Advance(amount * 60 * 60 * 1000 * kMs);  // Hours to days.
        break;
      case OpKind::kCleanUp:
        cache_->RunPendingTasks();
        for (const auto& [k, e] : model_) RC_ASSERT(e.deadline > now_);
        break;
    }
    CheckAgreement();
  }

  void Finish() {
    op_ = OpKind::kInvalidateAll;
    cache_->InvalidateAll();
    RC_ASSERT(model_.empty());
    RC_ASSERT(cache_->size() == 0);
  }

 private:
  bool LiveInModel(const std::string& key) const {
    auto it = model_.find(key);
    return it != model_.end() && it->second.deadline > now_;
  }

  void Advance(int64_t ns) {
    clock_.Advance(absl::Nanoseconds(ns));
    now_ += ns;
  }

  void Put(const std::string& key, const std::string& value, std::optional<int64_t> ttl_ns) {
    auto it = model_.find(key);
    replaced_ = std::nullopt;
    if (it != model_.end()) {
      replaced_ = it->second;
      model_.erase(it);
    }
    ModelEntry entry;
    entry.value = value;
    entry.write_deadline = DeadlineAfter(now_, config_.ttl_ns);
    entry.variable_deadline = ttl_ns.has_value() ? DeadlineAfter(now_, *ttl_ns) : kNever;
    entry.deadline = std::min({entry.write_deadline, entry.variable_deadline,
                               DeadlineAfter(now_, config_.tti_ns)});
    model_[key] = entry;
    if (ttl_ns.has_value()) {
      cache_->Put(key, value, absl::Nanoseconds(*ttl_ns));
    } else {
      cache_->Put(key, value);
    }
    RC_ASSERT(!replaced_.has_value());  // The old value was reported exactly once.
  }

  void Get(const std::string& key) {
    const bool live = LiveInModel(key);
    const ValuePtr got = cache_->GetIfPresent(key);
    if (!live) {
      RC_ASSERT(got == nullptr);
      return;
    }
    RC_ASSERT(got != nullptr);
    ModelEntry& e = model_[key];
    RC_ASSERT(*got == e.value);
    if (config_.tti_ns != kNever) {
      e.deadline = std::min({e.write_deadline, e.variable_deadline,
                             DeadlineAfter(now_, config_.tti_ns)});
    }
  }

  void OnRemoval(const std::string& key, const std::string& value, RemovalCause cause) {
    const bool putting = op_ == OpKind::kPut || op_ == OpKind::kPutTtl;
    if (putting && key == op_key_ && replaced_.has_value() && replaced_->value == value) {
      // The value this put overwrites: replaced if it was live, else expired.
      RC_ASSERT(cause == (replaced_->deadline > now_ ? RemovalCause::kReplaced
                                                     : RemovalCause::kExpired));
      replaced_ = std::nullopt;
      return;
    }
    auto it = model_.find(key);
    RC_ASSERT(it != model_.end());
    RC_ASSERT(it->second.value == value);
    const bool expired = it->second.deadline <= now_;
    switch (cause) {
      case RemovalCause::kExpired:
        RC_ASSERT(expired);
        break;
      case RemovalCause::kSize:
        RC_ASSERT(putting);
        break;
      case RemovalCause::kExplicit:
        RC_ASSERT(!expired);
        RC_ASSERT(op_ == OpKind::kInvalidateAll ||
                  (op_ == OpKind::kInvalidate && key == op_key_) ||
                  (op_ == OpKind::kInvalidateIfOdd && value.size() % 2 == 1));
        break;
      case RemovalCause::kReplaced:
        RC_FAIL(absl::StrCat("unexpected kReplaced for ", key));
    }
    model_.erase(it);
  }

  void CheckAgreement() {
    cache_->CheckInvariants();
    RC_ASSERT(cache_->weight() <= config_.max_weight);
    RC_ASSERT(cache_->size() == static_cast<int64_t>(model_.size()));
    for (const auto& [key, e] : model_) RC_ASSERT(cache_->QueueOf(key).has_value());
  }

  Config config_;
  ManualClock clock_;
  std::optional<LocalCache> cache_;
  std::map<std::string, ModelEntry> model_;
  int64_t now_ = 0;
  OpKind op_ = OpKind::kGet;
  std::string op_key_;
  std::optional<ModelEntry> replaced_;
};

void RunModel(bool weighted) {
  Config config;
  config.weighted = weighted;
  config.max_weight = weighted ? *rc::gen::inRange<int64_t>(10, 200) : *rc::gen::inRange<int64_t>(1, 24);
  const auto duration = rc::gen::element(kNever, kNever, int64_t{200 * kMs}, int64_t{1000 * kMs},
                                         int64_t{3000 * kMs});
  config.ttl_ns = *duration;
  config.tti_ns = *duration;
  RC_TAG(config.ttl_ns != kNever, config.tti_ns != kNever);
  const auto ops = *rc::gen::container<std::vector<std::tuple<uint8_t, uint8_t, uint8_t, uint8_t>>>(
      rc::gen::arbitrary<std::tuple<uint8_t, uint8_t, uint8_t, uint8_t>>());
  ModelChecker checker(config);
  for (const auto& [kind, key, value_size, amount] : ops) {
    checker.Run(KindOf(kind), absl::StrCat("k", key % 8),
                std::string(value_size % 24, static_cast<char>('a' + key % 26)), amount);
  }
  checker.Finish();
}

RC_GTEST_PROP(LocalCacheModelTest, CountCapacityMatchesModel, ()) { RunModel(false); }
RC_GTEST_PROP(LocalCacheModelTest, WeightCapacityMatchesModel, ()) { RunModel(true); }

// Prints how to replay a failure with the same seed.
class ReproPrinter : public ::testing::EmptyTestEventListener {
 public:
  explicit ReproPrinter(uint64_t seed) : seed_(seed) {}
  void OnTestEnd(const ::testing::TestInfo& info) override {
    if (info.result()->Failed()) {
      std::fprintf(stderr, "reproduce with: %s\n", sim::ReproCommand(seed_).c_str());
    }
  }

 private:
  uint64_t seed_;
};

}  // namespace
}  // namespace crema::cache

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  const uint64_t seed = crema::sim::TestSeed();
  // RapidCheck reads RC_PARAMS on first use; derive its seed from ours unless the caller set it.
  if (std::getenv("RC_PARAMS") == nullptr) {
    const std::string params = absl::StrCat("seed=", seed, " max_success=1000 max_size=300");
    setenv("RC_PARAMS", params.c_str(), 1);
  }
  ::testing::UnitTest::GetInstance()->listeners().Append(new crema::cache::ReproPrinter(seed));
  return RUN_ALL_TESTS();
}
