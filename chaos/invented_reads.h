// A relaxed check for local (possibly stale) reads: reads may be stale, never invented.
//
// The cache serves some reads from a node's local copy without going through Raft. Those reads
// are not linearizable, but they must still be honest: a get on key k that returns value x must
// be explained by some write of x to k — a put(k, x) or a cas(k, _, x) whose outcome is ok or
// indeterminate — that was invoked no later than the read returned (invoke_ns <= return_ns; equal
// times count as concurrent). A miss (absent) is always allowed. Indeterminate gets and
// operations with outcome kError are ignored (an errored write cannot explain a read).
//
// This catches values from nowhere (corruption, wrong key, a read of a value from the future),
// not staleness or lost writes: use CheckLinearizability for reads that claim linearizability.
//
// Example:
//   absl::StatusOr<InventedReadsResult> r = CheckNoInventedReads(history);
//   if (r.ok() && !r->ok()) { ... history[r->invented_reads[0]] read a value never written ... }
//
// Thread safety: a pure function. Cost: O(n log n) for n operations.
#ifndef CREMA_CHAOS_INVENTED_READS_H_
#define CREMA_CHAOS_INVENTED_READS_H_

#include <cstddef>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "chaos/history.h"

namespace crema::chaos {

// At most this many offending reads are listed (the count is always exact).
inline constexpr size_t kMaxReportedInventedReads = 100;

struct InventedReadsResult {
  size_t reads_checked = 0;       // Gets that returned a value.
  size_t invented_count = 0;      // Of those, reads no write explains.
  std::vector<size_t> invented_reads;  // History indices, ascending, at most the bound above.
  bool ok() const { return invented_count == 0; }
};

// Errors only for malformed histories (see ValidateHistory).
[[nodiscard]] absl::StatusOr<InventedReadsResult> CheckNoInventedReads(const History& history);

// One line: `no_invented_reads=true reads=N invented=0` (+ ` first=#i` when some were found).
std::string InventedReadsSummary(const InventedReadsResult& result);

}  // namespace crema::chaos

#endif  // CREMA_CHAOS_INVENTED_READS_H_
