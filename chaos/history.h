// History: what clients of a key-value store (the Crema cache) observed, for the checkers.
//
// A history is a list of `Operation`s. Each operation is one client call on one byte-string key:
//
//   put(key, value)                 -> ok
//   get(key)                        -> ok + the value read, or absent (a miss)
//   delete(key)                     -> ok
//   cas(key, expected, new_value)   -> ok (swapped) or fail (current value != expected);
//                                      `expected == nullopt` means "only if the key is absent".
//
// Every operation also has the client that issued it, its invocation time and its return time in
// nanoseconds (any epoch, the same for the whole history), and an outcome. Two outcomes say the
// call did not complete normally:
//   * kIndeterminate: the client timed out or lost the connection, so the operation may or may
//     not have taken effect, at any moment after its invocation. It has no return time: checkers
//     treat it as returning at +infinity (as Jepsen's Knossos and Porcupine do).
//   * kError: the operation definitely did not take effect (e.g. rejected before it was proposed).
//     Checkers ignore it.
//
// Real-time order: operation A precedes B iff A.return_ns < B.invoke_ns. Equal times count as
// concurrent (the conservative choice: it never reports a violation that depends on a tie).
//
// Example:
//   History h = {
//       PutOp(/*client=*/1, "k", "v1", /*invoke_ns=*/0, /*return_ns=*/10),
//       GetOp(2, "k", "v1", 5, 12),
//       Indeterminate(CasOp(3, "k", "v1", "v2", /*swapped=*/false, 20, 0)),
//   };
//
// The JSON-lines encoding is in chaos/history_json.h; a recorder for simulations is
// `HistoryRecorder` below. Thread safety: plain values; a HistoryRecorder belongs to one thread
// (the simulator's).
#ifndef CREMA_CHAOS_HISTORY_H_
#define CREMA_CHAOS_HISTORY_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace crema::chaos {

// kIncr and kExpire are the cache's (the `cache` scenario; checked with the cache model of
// chaos/cache_model.h):
//   incr(key, delta)      -> ok + the new value (decimal), or fail (not an integer; no effect)
//   expire(key, ttl)      -> ok (the key existed and got / lost its TTL) or fail (no change)
enum class OpKind : uint8_t { kPut, kGet, kDelete, kCas, kIncr, kExpire };

enum class Outcome : uint8_t {
  kOk,             // put/delete done; get found `value`; cas swapped.
  kAbsent,         // get only: the key had no value.
  kFail,           // cas only: the current value did not match `expected`; nothing changed.
  kIndeterminate,  // unknown whether (and when) it took effect; no return time.
  kError,          // definitely had no effect; ignored by the checkers.
};

struct Operation {
  int64_t client = 0;  // A label for reports; checkers do not require per-client sequencing.
  OpKind kind = OpKind::kGet;
  std::string key;
  // put: the value written. cas: the new value. get with kOk: the value read. Otherwise empty.
  std::string value;
  // cas only: the value the cas expects; nullopt means "expects the key to be absent".
  std::optional<std::string> expected;
  int64_t invoke_ns = 0;
  // Set iff outcome != kIndeterminate; then return_ns >= invoke_ns.
  std::optional<int64_t> return_ns;
  Outcome outcome = Outcome::kOk;
  // Cache operations only (false / 0 otherwise):
  //   put, cas: the value written has a time to live (it may expire).
  //   expire: true sets a time to live, false removes it (PERSIST).
  bool ttl = false;
  int64_t delta = 0;   // incr
  bool local = false;  // get: a local read (may be stale); not checked for linearizability

  bool indeterminate() const { return outcome == Outcome::kIndeterminate; }
  friend bool operator==(const Operation&, const Operation&) = default;
};

using History = std::vector<Operation>;

// Size bounds for histories, enforced by `ValidateHistory` and the JSON parser.
inline constexpr size_t kMaxKeyBytes = 64 * 1024;
inline constexpr size_t kMaxValueBytes = 1024 * 1024;
inline constexpr size_t kMaxHistoryOperations = 10'000'000;

// Builders for completed operations (mostly for tests and recorders).
Operation PutOp(int64_t client, std::string key, std::string value, int64_t invoke_ns,
                int64_t return_ns);
// `read == nullopt` means the get found nothing (outcome kAbsent).
Operation GetOp(int64_t client, std::string key, std::optional<std::string> read,
                int64_t invoke_ns, int64_t return_ns);
Operation DeleteOp(int64_t client, std::string key, int64_t invoke_ns, int64_t return_ns);
Operation CasOp(int64_t client, std::string key, std::optional<std::string> expected,
                std::string new_value, bool swapped, int64_t invoke_ns, int64_t return_ns);
// Cache operations. `result == nullopt` means the incr failed (not an integer).
Operation IncrOp(int64_t client, std::string key, int64_t delta, std::optional<int64_t> result,
                 int64_t invoke_ns, int64_t return_ns);
// `applied`: the key existed and its TTL changed (ok), else fail.
Operation ExpireOp(int64_t client, std::string key, bool ttl, bool applied, int64_t invoke_ns,
                   int64_t return_ns);
// Returns `op` with its outcome made kIndeterminate and its return time removed (and, for a get,
// its read value dropped).
Operation Indeterminate(Operation op);

// OK iff every operation is well formed: the kind/outcome pair is allowed (see the table in
// history_json.h), times are non-negative with return_ns >= invoke_ns, return_ns is present iff
// the outcome is not kIndeterminate, fields unused by the kind are empty, sizes are within the
// bounds above. The error names the first bad operation by index.
[[nodiscard]] absl::Status ValidateHistory(const History& history);
[[nodiscard]] absl::Status ValidateOperation(const Operation& op);

const char* OpKindName(OpKind kind);       // "put", "get", "delete", "cas"
const char* OutcomeName(Outcome outcome);  // "ok", "absent", "fail", "indeterminate", "error"

// A short human-readable rendering for reports, e.g.
//   `#12 client 3 cas("k", expect "a", new "b") -> fail [100, 250]`
// Bytes that are not printable ASCII are C-escaped; long strings are abbreviated.
std::string FormatOperation(const Operation& op, size_t index);

// Records a history as a simulation runs: call `Invoke` when a client sends a request and
// `Complete*` when it gets an answer. Operations still open at `Finish` become indeterminate.
//
//   HistoryRecorder recorder;
//   auto id = recorder.InvokePut(client, "k", "v", clock.MonotonicNow());
//   ...
//   recorder.CompleteOk(id, clock.MonotonicNow());
//   History h = std::move(recorder).Finish();
//
// Times are converted with absl::ToUnixNanos. Completing an id twice, or with a time before its
// invocation, is a programmer error (asserts).
class HistoryRecorder {
 public:
  using OpId = size_t;

  OpId InvokePut(int64_t client, std::string key, std::string value, absl::Time now);
  OpId InvokeGet(int64_t client, std::string key, absl::Time now);
  OpId InvokeDelete(int64_t client, std::string key, absl::Time now);
  OpId InvokeCas(int64_t client, std::string key, std::optional<std::string> expected,
                 std::string new_value, absl::Time now);

  // Any operation, invoked as built (its outcome and return time are set on completion).
  OpId InvokeOp(Operation op, absl::Time now) { return Invoke(std::move(op), now); }

  // put/delete/expire done; cas swapped.
  void CompleteOk(OpId id, absl::Time now);
  // incr: the new value, or nullopt for "not an integer" (fail).
  void CompleteIncr(OpId id, std::optional<int64_t> result, absl::Time now);
  // cas not swapped, expire not applied.
  void CompleteFailed(OpId id, absl::Time now) { CompleteCasFailed(id, now); }
  // get only: `read == nullopt` is a miss.
  void CompleteRead(OpId id, std::optional<std::string> read, absl::Time now);
  // cas only: the comparison failed.
  void CompleteCasFailed(OpId id, absl::Time now);
  // Definitely not executed (the checkers will ignore it).
  void CompleteError(OpId id, absl::Time now);
  // Timed out / unknown: may or may not have taken effect. Same as never completing it.
  void CompleteIndeterminate(OpId id);

  size_t size() const { return ops_.size(); }

  // The recorded history; open operations become indeterminate.
  History Finish() &&;

 private:
  OpId Invoke(Operation op, absl::Time now);
  Operation& Open(OpId id, absl::Time now);

  History ops_;
  std::vector<bool> completed_;
};

}  // namespace crema::chaos

#endif  // CREMA_CHAOS_HISTORY_H_
