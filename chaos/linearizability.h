// Linearizability checker for key-value histories (chaos/history.h).
//
// `CheckLinearizability(history)` decides whether the history could have come from a single
// atomic copy of a map from keys to values: whether there is a total order of its operations that
// respects real time (A before B whenever A returned before B was invoked; equal times count as
// concurrent) in which every get reads the latest put/cas value (or absent after a delete or
// before any write), every successful cas found its expected value and every failed cas did not.
//   * Indeterminate operations may take effect at any point after their invocation, or never.
//     An indeterminate get constrains nothing and is dropped. Operations with outcome kError are
//     dropped.
//   * By default the history is split per key (linearizability is compositional: Herlihy & Wing
//     1990; per-key "P-compositionality" as in Horn & Kroening 2015 and Porcupine) and each key
//     is searched separately, in sorted key order, with the Wing & Gong / Lowe search described
//     in chaos/wgl_search.h.
//   * The search is bounded: `max_steps` model steps in total and `max_cache_bytes` of memoized
//     configurations per key. When a bound is hit the verdict is kUnknown, never a hang.
//
// Example:
//   absl::StatusOr<LinearizabilityResult> result = CheckLinearizability(history);
//   if (!result.ok()) { /* the history is malformed */ }
//   std::cout << LinearizabilitySummary(*result) << "\n";
//   if (result->verdict == Verdict::kNotLinearizable)
//     std::cout << ExplainViolation(history, *result);
//
// Thread safety: pure functions of their arguments; safe to call concurrently.
#ifndef CREMA_CHAOS_LINEARIZABILITY_H_
#define CREMA_CHAOS_LINEARIZABILITY_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "chaos/history.h"

namespace crema::chaos {

struct LinearizabilityOptions {
  // Check each key separately (fast). false checks the whole history as one object (only for
  // small histories; used to test that partitioning does not change verdicts).
  bool partition_by_key = true;
  // Total model steps over all keys before giving up with kUnknown.
  uint64_t max_steps = 50'000'000;
  // Memory for memoized configurations of one key before giving up with kUnknown.
  size_t max_cache_bytes = size_t{512} << 20;
  // Check against the model of a cache (chaos/cache_model.h) instead of a plain register: reads
  // may miss values written with a TTL, and with `cache_may_evict` any value. Needed for
  // histories with incr / expire / TTL'd writes. Local gets are never checked (they are not
  // linearizable by design).
  bool cache_model = false;
  bool cache_may_evict = false;
};

enum class Verdict { kLinearizable, kNotLinearizable, kUnknown };

// "true", "false" or "unknown".
const char* VerdictName(Verdict verdict);

// Why a history is not linearizable: the deepest point the search reached on the failing key.
struct Violation {
  std::string key;  // Empty when the history was not partitioned.
  // Indices into the history, in a linearization order that is legal and respects real time...
  std::vector<size_t> linearized_prefix;
  // ...which leaves the store in this state (e.g. `"v1"`, `absent`, or per key when unpartitioned).
  std::string state_after_prefix;
  // The operation whose return came next but which could not be linearized there, whatever
  // order of the `candidates` (operations invoked before that return and not yet linearized)
  // was tried first. `blocked_operation` is itself among the candidates.
  size_t blocked_operation = 0;
  std::vector<size_t> candidates;
};

struct LinearizabilityResult {
  Verdict verdict = Verdict::kUnknown;
  size_t operations = 0;          // In the input history.
  // Operations searched, in the keys examined (the check stops at the first violating key),
  // after dropping errors, indeterminate gets and indeterminate writes of values nobody could
  // observe (see linearizability.cc): those never change the verdict.
  size_t operations_checked = 0;
  size_t keys = 0;                // Distinct keys among the checked operations.
  uint64_t steps = 0;             // Model steps taken in total.
  size_t max_cache_entries = 0;   // Largest number of memoized configurations for one key.
  std::string unknown_reason;     // kUnknown only: which budget ran out, at which key.
  std::optional<Violation> violation;  // kNotLinearizable only.
};

// Checks `history`. Errors only for malformed histories (see ValidateHistory).
[[nodiscard]] absl::StatusOr<LinearizabilityResult> CheckLinearizability(
    const History& history, const LinearizabilityOptions& options = {});

// One line: `linearizable=false ops=N checked=C keys=K steps=S cache=E key="k" blocked=#12`.
std::string LinearizabilitySummary(const LinearizabilityResult& result);

// A multi-line human explanation of `result.violation` (empty if there is none): the key, the
// longest linearizable prefix (its last 20 operations), the state after it and the operations
// that could not go next.
std::string ExplainViolation(const History& history, const LinearizabilityResult& result);

}  // namespace crema::chaos

#endif  // CREMA_CHAOS_LINEARIZABILITY_H_
