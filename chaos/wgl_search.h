// Internal to chaos/linearizability: the linearization search, independent of the data type.
//
// Given operations with call/return times and a sequential model (states are int64 ids, `Step`
// says whether an operation is legal in a state and what state follows), decide whether some
// total order of the operations (a) respects real time: A before B whenever A returned before B
// was called, and (b) is a legal run of the model from its initial state. Indeterminate
// operations (no return) may be placed anywhere after their call, or left out.
//
// Algorithm: Wing & Gong's depth-first search (J. Wing, C. Gong, "Testing and verifying
// concurrent objects", JPDC 1993) with Lowe's improvements (G. Lowe, "Testing for
// linearizability", CCPE 2017):
//   * Just-in-time linearization: an operation is linearized only when the search reaches the
//     earliest return event of an operation not yet linearized; the candidates at that point are
//     the not-yet-linearized operations called before that event. (Any linearization can be
//     rearranged into this form, so the search stays complete.)
//   * Memoization: a configuration is fully described by (set of linearized operations, model
//     state), because the set determines the next pending return event. Each configuration is
//     expanded at most once; the cache (chaos/config_cache.h) stores the set as a compressed
//     bitset, hashed incrementally with per-operation random words (Zobrist hashing).
//   * Candidate order: determinate operations first, in call order; indeterminate ones (which
//     never have to be linearized) only after them.
//   * Read-only pruning (ours, a standard commutation argument): if a candidate never changes
//     any state (a get, a failed cas) and is legal now, linearizing it now loses no solutions:
//     moving it earlier keeps every later step legal and cannot break real-time order (it was
//     already called before every remaining operation returns). So such a candidate is taken
//     without branching.
// The search is iterative (no recursion), deterministic, and bounded by a step budget and a
// cache-size budget; exhausting either yields kUnknown rather than a hang.
//
// Thread safety: pure functions; the model is used by one search at a time.
#ifndef CREMA_CHAOS_WGL_SEARCH_H_
#define CREMA_CHAOS_WGL_SEARCH_H_

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace crema::chaos::internal {

// `Step` returns this when the operation is not legal in the state.
inline constexpr int64_t kIllegalStep = std::numeric_limits<int64_t>::min();

class SequentialModel {
 public:
  virtual ~SequentialModel() = default;
  virtual int64_t InitialState() = 0;
  // The state after operation `op` (an index into the search's operations) in `state`, or
  // kIllegalStep. Must be a pure function of (state, op).
  virtual int64_t Step(int64_t state, size_t op) = 0;
  // True if `op` leaves every state unchanged whenever it is legal (enables read-only pruning).
  virtual bool IsReadOnly(size_t op) = 0;
  // A short description of a state for reports.
  virtual std::string DescribeState(int64_t state) = 0;
};

struct SearchOp {
  int64_t call_ns = 0;
  int64_t return_ns = 0;  // Ignored when !determinate.
  bool determinate = true;
};

struct SearchBudget {
  uint64_t max_steps = 0;        // Model steps (Step calls).
  size_t max_cache_bytes = 0;    // Memory for memoized configurations.
};

enum class SearchVerdict { kLinearizable, kNotLinearizable, kUnknown };

struct SearchOutcome {
  SearchVerdict verdict = SearchVerdict::kUnknown;
  uint64_t steps = 0;
  size_t cache_entries = 0;
  // kNotLinearizable: the deepest point of the search. `longest_prefix` is a linearization of
  // some operations (search indices, in order); after it the model is in `state_after_prefix`
  // and operation `blocked` (whose return came next) could not be linearized, nor could any
  // sequence of the `candidates` (everything called before that return) lead to a full
  // linearization.
  std::vector<size_t> longest_prefix;
  int64_t state_after_prefix = 0;
  size_t blocked = 0;
  std::vector<size_t> candidates;
};

SearchOutcome SearchLinearization(const std::vector<SearchOp>& ops, SequentialModel& model,
                                  const SearchBudget& budget);

}  // namespace crema::chaos::internal

#endif  // CREMA_CHAOS_WGL_SEARCH_H_
