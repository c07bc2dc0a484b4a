// CheckRealHistory: every history oracle a real-process chaos run (tools/chaos/) applies, in one
// call — the same checkers the simulator's cache scenario uses:
//   * linearizability under the cache model (chaos/linearizability.h, cache_model = true;
//     eviction off: the harness gives nodes room for every key, so a lost acknowledged write is
//     a violation — the history ends with a linearizable read of every key);
//   * local reads never invented and read-your-writes through one node; no read of a TTL'd value
//     later than its deadline plus the skew bound (chaos/cache_oracles.h).
// An `unknown` linearizability verdict (a search budget ran out) counts as a violation: a run
// that could not be checked has not passed.
//
// Thread safety: pure functions.
#ifndef CREMA_CHAOS_REAL_REAL_CHECK_H_
#define CREMA_CHAOS_REAL_REAL_CHECK_H_

#include <cstddef>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "chaos/cache_oracles.h"
#include "chaos/history.h"
#include "chaos/linearizability.h"

namespace crema::chaos {

struct RealCheckOptions {
  absl::Duration max_skew = absl::Milliseconds(500);  // the cluster's max_clock_skew
  bool may_evict = false;
  uint64_t max_steps = 200'000'000;
};

struct RealCheckResult {
  size_t operations = 0;
  size_t operations_checked = 0;  // by the linearizability search
  Verdict verdict = Verdict::kUnknown;
  std::string linearizability;    // LinearizabilitySummary
  std::string explanation;        // ExplainViolation, when not linearizable
  CacheOracleResult oracles;
  std::string error;              // a malformed history (a harness bug)

  // Linearizability failures (including unknown) plus oracle violations.
  size_t violations() const {
    return (error.empty() ? 0 : 1) + (verdict == Verdict::kLinearizable ? 0 : 1) +
           oracles.violation_count;
  }
  std::string Describe() const;  // multi-line, for the run's report
};

// REQUIRES: info.size() == history.size().
RealCheckResult CheckRealHistory(const History& history, const std::vector<OracleInfo>& info,
                                 const RealCheckOptions& options);

}  // namespace crema::chaos

#endif  // CREMA_CHAOS_REAL_REAL_CHECK_H_
