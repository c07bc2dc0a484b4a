// Properties of the linearizability checkers over generated histories.
//
// RapidCheck properties draw a 64-bit seed (RapidCheck prints how to reproduce a failure with
// RC_PARAMS="reproduce=..."); the seed sweeps at the end take theirs from crema::sim::TestSeeds
// and print ReproCommand(seed) on failure.
//
// The reference oracle `BruteForceLinearizable` is a deliberately naive search written apart
// from the checker: it tries every real-time-respecting order of the whole history against a
// plain std::map, with no memoization, partitioning or pruning.
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "chaos/history.h"
#include "chaos/history_generator.h"
#include "chaos/history_json.h"
#include "chaos/invented_reads.h"
#include "chaos/linearizability.h"
#include "gtest/gtest.h"
#include "node/random.h"
#include "rapidcheck.h"
#include "rapidcheck/gtest.h"
#include "sim/test_seed.h"

namespace crema::chaos {
namespace {

using Store = std::map<std::string, std::string>;

// Applies `op` to `store` if legal for its recorded outcome; false if illegal.
bool ApplyNaively(const Operation& op, Store& store) {
  auto it = store.find(op.key);
  const bool present = it != store.end();
  switch (op.kind) {
    case OpKind::kPut:
      store[op.key] = op.value;
      return true;
    case OpKind::kDelete:
      store.erase(op.key);
      return true;
    case OpKind::kGet:
      if (op.outcome == Outcome::kAbsent) return !present;
      return present && it->second == op.value;
    case OpKind::kCas: {
      const bool matches = op.expected.has_value() ? present && it->second == *op.expected
                                                   : !present;
      if (op.outcome == Outcome::kFail) return !matches;
      if (matches) store[op.key] = op.value;
      return matches || op.outcome == Outcome::kIndeterminate;
    }
  }
  return false;
}

bool BruteForceSearch(const History& ops, std::vector<bool>& done, const Store& store) {
  bool all_determinate_done = true;
  for (size_t i = 0; i < ops.size(); ++i) {
    all_determinate_done = all_determinate_done && (done[i] || ops[i].indeterminate());
  }
  if (all_determinate_done) return true;
  for (size_t i = 0; i < ops.size(); ++i) {
    if (done[i]) continue;
    bool minimal = true;  // No remaining operation returned before this one was invoked.
    for (size_t j = 0; j < ops.size() && minimal; ++j) {
      minimal = done[j] || !ops[j].return_ns.has_value() || *ops[j].return_ns >= ops[i].invoke_ns;
    }
    if (!minimal) continue;
    Store next = store;
    if (!ApplyNaively(ops[i], next)) continue;
    done[i] = true;
    const bool found = BruteForceSearch(ops, done, next);
    done[i] = false;
    if (found) return true;
  }
  return false;
}

bool BruteForceLinearizable(const History& history) {
  History ops;
  for (const Operation& op : history) {
    if (op.outcome == Outcome::kError) continue;
    if (op.kind == OpKind::kGet && op.indeterminate()) continue;
    ops.push_back(op);
  }
  std::vector<bool> done(ops.size(), false);
  return BruteForceSearch(ops, done, Store());
}

Verdict Check(const History& h, bool partition = true) {
  absl::StatusOr<LinearizabilityResult> result =
      CheckLinearizability(h, {.partition_by_key = partition});
  if (!result.ok()) {
    ADD_FAILURE() << result.status();
    return Verdict::kUnknown;
  }
  return result->verdict;
}

// Indices of completed gets (the ones whose result constrains the history).
std::vector<size_t> CompletedGets(const History& h) {
  std::vector<size_t> gets;
  for (size_t i = 0; i < h.size(); ++i) {
    if (h[i].kind == OpKind::kGet &&
        (h[i].outcome == Outcome::kOk || h[i].outcome == Outcome::kAbsent)) {
      gets.push_back(i);
    }
  }
  return gets;
}

AtomicHistoryOptions SmallOptions(Random& random) {
  return {.clients = static_cast<int>(random.Range(1, 6)),
          .keys = static_cast<int>(random.Range(1, 5)),
          .operations = static_cast<int>(random.Range(0, 150)),
          .value_domain = random.OneIn(2) ? 0 : static_cast<int>(random.Range(1, 4)),
          .indeterminate_one_in = 10,
          .error_one_in = 20,
          .min_latency_ns = 0,
          .max_latency_ns = static_cast<int64_t>(random.Range(1, 5000)),
          .max_think_ns = 1000,
          .timeout_ns = 3000};
}

RC_GTEST_PROP(LinearizabilityProperty, AtomicStoreHistoriesAreLinearizable, (uint64_t seed)) {
  Random random(seed);
  const History h = GenerateAtomicHistory(SmallOptions(random), random);
  RC_ASSERT(ValidateHistory(h).ok());
  absl::StatusOr<LinearizabilityResult> result = CheckLinearizability(h);
  RC_ASSERT(result.ok());
  RC_ASSERT(result->verdict == Verdict::kLinearizable);
  absl::StatusOr<InventedReadsResult> invented = CheckNoInventedReads(h);
  RC_ASSERT(invented.ok());
  RC_ASSERT(invented->ok());
}

RC_GTEST_PROP(LinearizabilityProperty, ReadingANeverWrittenValueIsNotLinearizable,
              (uint64_t seed)) {
  Random random(seed);
  History h = GenerateAtomicHistory(SmallOptions(random), random);
  const std::vector<size_t> gets = CompletedGets(h);
  RC_PRE(!gets.empty());
  const size_t victim = gets[random.Uniform(gets.size())];
  h[victim].outcome = Outcome::kOk;
  h[victim].value = "never-written";
  absl::StatusOr<LinearizabilityResult> result = CheckLinearizability(h);
  RC_ASSERT(result.ok());
  RC_ASSERT(result->verdict == Verdict::kNotLinearizable);
  RC_ASSERT(result->violation->key == h[victim].key);
  absl::StatusOr<InventedReadsResult> invented = CheckNoInventedReads(h);
  RC_ASSERT(invented.ok());
  RC_ASSERT(invented->invented_reads == std::vector<size_t>{victim});
}

// Small histories with random damage, so that both verdicts occur.
History DamagedSmallHistory(Random& random) {
  AtomicHistoryOptions options{.clients = static_cast<int>(random.Range(1, 4)),
                               .keys = static_cast<int>(random.Range(1, 3)),
                               .operations = static_cast<int>(random.Range(1, 10)),
                               .value_domain = static_cast<int>(random.Range(1, 3)),
                               .indeterminate_one_in = 6,
                               .error_one_in = 12,
                               .min_latency_ns = 0,
                               .max_latency_ns = 40,
                               .max_think_ns = 10,
                               .timeout_ns = 30};
  History h = GenerateAtomicHistory(options, random);
  const int damage = static_cast<int>(random.Range(0, 2));
  for (int d = 0; d < damage && !h.empty(); ++d) {
    Operation& op = h[random.Uniform(h.size())];
    if (op.kind == OpKind::kGet && !op.indeterminate() && op.outcome != Outcome::kError) {
      if (random.OneIn(3)) {
        op.outcome = Outcome::kAbsent;
        op.value.clear();
      } else {
        op.outcome = Outcome::kOk;
        op.value = absl::StrCat("v", random.Uniform(options.value_domain));
      }
    } else if (op.kind == OpKind::kCas && op.outcome == Outcome::kOk) {
      op.outcome = Outcome::kFail;
    } else if (op.kind == OpKind::kCas && op.outcome == Outcome::kFail) {
      op.outcome = Outcome::kOk;
    } else if (op.return_ns.has_value()) {
      // Move the operation later in time: it may now miss its own effects.
      const int64_t shift = random.Range(1, 60);
      op.invoke_ns += shift;
      *op.return_ns += shift;
    }
  }
  return h;
}

RC_GTEST_PROP(LinearizabilityProperty, PartitioningAndBruteForceAgree, (uint64_t seed)) {
  Random random(seed);
  const History h = DamagedSmallHistory(random);
  RC_ASSERT(ValidateHistory(h).ok());
  const Verdict per_key = Check(h, /*partition=*/true);
  const Verdict whole = Check(h, /*partition=*/false);
  const Verdict reference =
      BruteForceLinearizable(h) ? Verdict::kLinearizable : Verdict::kNotLinearizable;
  RC_TAG(reference == Verdict::kLinearizable ? "linearizable" : "not linearizable");
  RC_ASSERT(per_key == whole);
  RC_ASSERT(per_key == reference);
}

RC_GTEST_PROP(LinearizabilityProperty, JsonRoundTripsGeneratedHistories, (uint64_t seed)) {
  Random random(seed);
  const History h = GenerateAtomicHistory(SmallOptions(random), random);
  absl::StatusOr<History> parsed = HistoryFromJsonLines(HistoryToJsonLines(h));
  RC_ASSERT(parsed.ok());
  RC_ASSERT(*parsed == h);
}

// Bigger, more concurrent histories than the properties use; seeds from the environment.
TEST(LinearizabilitySweep, GeneratedHistoriesAndTheirMutations) {
  for (const uint64_t seed : sim::TestSeeds(8)) {
    Random random(seed);
    const AtomicHistoryOptions options{.clients = 8,
                                       .keys = 10,
                                       .operations = 2000,
                                       .value_domain = 5,
                                       .indeterminate_one_in = 20};
    History h = GenerateAtomicHistory(options, random);
    absl::StatusOr<LinearizabilityResult> result = CheckLinearizability(h);
    ASSERT_TRUE(result.ok()) << result.status();
    ASSERT_EQ(result->verdict, Verdict::kLinearizable)
        << LinearizabilitySummary(*result) << "\n" << ExplainViolation(h, *result)
        << "reproduce: " << sim::ReproCommand(seed);
    const std::vector<size_t> gets = CompletedGets(h);
    ASSERT_FALSE(gets.empty()) << sim::ReproCommand(seed);
    const size_t victim = gets[random.Uniform(gets.size())];
    h[victim].outcome = Outcome::kOk;
    h[victim].value = "never-written";
    result = CheckLinearizability(h);
    ASSERT_TRUE(result.ok()) << result.status();
    EXPECT_EQ(result->verdict, Verdict::kNotLinearizable)
        << LinearizabilitySummary(*result) << " reproduce: " << sim::ReproCommand(seed);
  }
}

}  // namespace
}  // namespace crema::chaos
