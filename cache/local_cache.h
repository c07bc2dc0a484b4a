// LocalCache: a bounded in-memory cache of byte-string keys and values, with W-TinyLFU
// admission, expiry on a timer wheel, a removal listener, statistics and single-flight loading.
//
// Every Crema replica keeps its data in a LocalCache, and embedded users may use one directly.
//
// Example:
//   crema::cache::CacheOptions options;
//   options.max_weight = 10'000;                        // 10,000 entries
//   options.expire_after_write = absl::Minutes(5);
//   crema::cache::LocalCache cache(clock, std::move(options));
//   cache.Put("k", "v");
//   if (const std::string* v = cache.GetIfPresent("k")) Use(*v);
//
// THREADING CONTRACT: not thread-safe, by design. A LocalCache belongs to one shard's event loop:
// each Raft group's state machine is applied by a single fiber, and reads are served by fibers of
// the same loop, which run cooperatively (one at a time, switching only at explicit waits). So no
// operation ever races another, and the read path takes no lock and executes no atomic
// read-modify-write: a hit is one hash lookup, a sketch increment and a pointer appended to a
// small read buffer (the LRU moves are applied in batches, see below). To use
// more cores, shard: run one LocalCache per thread (per shard), never share one across threads.
// Fibers must not keep a `const std::string*` from GetIfPresent across a wait (see below).
//
// Policy (W-TinyLFU, after Einziger, Friedman & Manes, ACM ToS 2017, and Caffeine):
//   * New entries enter a small LRU "window" (1% of capacity initially). Entries pushed out of the
//     window become candidates for the main space, a segmented LRU: "probation" (entries seen in
//     main once) and "protected" (entries hit while in probation; 80% of main). A protected
//     overflow is demoted back to probation's most-recent end.
//   * When the cache is over capacity, the candidate competes with the main space's victim (the
//     least recent probation entry): a count-min sketch of recent read frequency (4-bit counters,
//     halved every 10 x capacity reads) decides; the less frequent one is evicted. To resist hash
//     flooding, a candidate at least kAdmitLotteryFrequency frequent that loses is still admitted
//     with probability 1/128, drawn from a crema::Random seeded by the options (deterministic).
//   * The window's share adapts on every miss from shadow hits (window_tuner.h): a miss on a key
//     the window recently lost grows it, a miss on a key the main space recently evicted shrinks
//     it. Hill climbing on the sampled hit rate (hill_climber.h, Caffeine's method) is an option.
//   * Reordering on reads is deferred: a hit appends its entry to a read buffer of
//     kReadBufferSize pointers, and the buffered moves are applied in order, with the list
//     neighbours prefetched, when it fills or before anything else looks at or changes the
//     queues (writes, removals, window changes, expiry, introspection). Nothing observes the queue
//     order in between, so the policy is exactly that of immediate moves; only the memory
//     accesses are batched (their cache misses overlap instead of stalling each read).
//   * Frequency counts reads (hits and misses), not writes: a key written often but never read
//     should not displace keys that are read.
//
// Expiry: each entry's deadline is the earliest of (last write + expire_after_write), (last access
// + expire_after_access) and the per-entry deadline (per-put TTL, else the Expiry policy). Reads
// never return an entry whose deadline is <= now. Due entries are removed (listener: kExpired) by
// a hierarchical timer wheel, advanced lazily from the Clock on every operation that reads it and
// by RunPendingTasks(). Time comes only from `crema::Clock::MonotonicNow()`; the clock is read at
// most once per operation, and not at all on reads of a cache that uses no expiry.
//
// Listener: called synchronously, exactly once per entry that leaves the cache, with its cause
// (kReplaced gets the old value). REQUIRES: it does not call back into the cache (asserted).
//
// Loading: GetWith(key, loader, done) runs at most one loader per key at a time; callers that ask
// for a key while its load is in flight are queued and all completed with the one result. A failed
// load caches nothing, so the next call loads again. A load that is overtaken by a Put,
// Invalidate or InvalidateAll of its key still completes its waiters, but does not overwrite the
// cache (the newer write or invalidation wins).
//
// Deferred eviction (CacheOptions::eviction = kDeferred), for replicated caches: writes never
// evict. While the total weight is within max_weight, window overflow moves into the main space
// as usual; once it is over, the overflow stays in the window as pending candidates. The owner
// asks `EvictionCandidates(weight)` for the keys the policy would evict (the same candidate-vs-
// victim duels as automatic eviction, run without removing anything) and later removes them with
// `Evict(key)` — in Crema, the shard leader proposes them through the Raft log and every replica
// applies the same removals. Absolute deadlines (`PutUntil`, `SetDeadline`) are in the clock's
// MonotonicNow domain; a replicated cache gives the cache a clock that reads the log's time.
//
// Invariants (checked by tests, asserted in debug builds): total weight <= max_weight after every
// public operation (automatic eviction only); every entry is on exactly one queue; window/protected weights match their
// queues; an entry with a finite deadline is on the timer wheel; the read buffer holds only live
// entries (it is drained before any removal) and at most kReadBufferSize of them.
#ifndef CREMA_CACHE_LOCAL_CACHE_H_
#define CREMA_CACHE_LOCAL_CACHE_H_

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/functional/any_invocable.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "cache/cache_options.h"
#include "cache/frequency_sketch.h"
#include "cache/hill_climber.h"
#include "cache/intrusive_list.h"
#include "cache/timer_wheel.h"
#include "cache/window_tuner.h"
#include "node/clock.h"
#include "node/random.h"

namespace crema::cache {

class LocalCache;

// Which part of the cache an entry is in (exposed for tests and metrics).
enum class Queue : uint8_t { kWindow, kProbation, kProtected };

namespace internal {

struct AccessTag {};

struct Entry : ListHook<AccessTag>, TimerNode {
  std::string key;
  std::string value;
  uint64_t hash = 0;                   // XXH3 of key: map slot and sketch counters.
  int64_t write_deadline_ns = 0;       // Last write + expire_after_write, or kNever.
  int64_t variable_deadline_ns = 0;    // Per-put TTL or Expiry policy, or kNever.
  uint32_t weight = 1;
  Queue queue = Queue::kWindow;
};

// The key set: entries hashed by their stored XXH3, looked up by string_view with a precomputed
// hash, so a read hashes its key exactly once.
struct EntryHash {
  using is_transparent = void;
  size_t operator()(const Entry* e) const { return e->hash; }
  size_t operator()(std::string_view key) const;
};
struct EntryEq {
  using is_transparent = void;
  bool operator()(const Entry* a, const Entry* b) const { return a == b; }
  bool operator()(const Entry* a, std::string_view b) const { return a->key == b; }
  bool operator()(std::string_view a, const Entry* b) const { return a == b->key; }
};

}  // namespace internal

// What a GetWith caller is completed with.
using LoadDone = absl::AnyInvocable<void(const absl::StatusOr<std::string>& result)>;

namespace internal {

// One in-flight load; shared by the cache's load table and the loader's LoadCompletion, so that
// either may go first (the cache clears `cache` when it is destroyed).
struct PendingLoad {
  LocalCache* cache = nullptr;
  std::string key;
  std::vector<LoadDone> waiters;  // Bounded by LocalCache::kMaxWaitersPerLoad.
  int64_t start_ns = 0;
  bool superseded = false;  // A write or invalidation of the key came after the load started.
  bool completed = false;
};

}  // namespace internal

// What a loader must call exactly once, now or later, with the loaded value or an error.
// Destroying it without completing completes the load with absl::CancelledError.
class LoadCompletion {
 public:
  LoadCompletion(LoadCompletion&&) noexcept;
  LoadCompletion& operator=(LoadCompletion&&) = delete;
  LoadCompletion(const LoadCompletion&) = delete;
  ~LoadCompletion();

  // REQUIRES: called at most once; not from a removal listener.
  void Complete(absl::StatusOr<std::string> result);

 private:
  friend class LocalCache;
  explicit LoadCompletion(std::shared_ptr<internal::PendingLoad> load);
  std::shared_ptr<internal::PendingLoad> load_;
};

// Fetches the value of `key` from the source of truth and calls `completion.Complete(...)`.
using Loader = absl::AnyInvocable<void(std::string_view key, LoadCompletion completion)>;

class LocalCache {
 public:
  // Below this estimated frequency a losing candidate is never admitted by the lottery.
  static constexpr int kAdmitLotteryFrequency = 6;
  static constexpr uint64_t kAdmitLotteryOdds = 128;
  // Bounds on loading: keys loading at once, and callers waiting for one key.
  static constexpr int64_t kMaxInflightLoads = 1 << 16;
  static constexpr int64_t kMaxWaitersPerLoad = 1 << 12;
  // Entries moved between window and main per window adjustment; the rest move lazily.
  static constexpr int kMaxQueueTransfers = 1000;
  // Hits whose LRU moves wait to be applied in one batch (see the file comment).
  static constexpr int kReadBufferSize = 32;

  // REQUIRES: options.max_weight > 0; `clock` outlives the cache.
  LocalCache(const Clock& clock, CacheOptions options);
  LocalCache(const LocalCache&) = delete;
  LocalCache& operator=(const LocalCache&) = delete;
  // Removes nothing through the listener; in-flight loads' waiters get absl::CancelledError.
  ~LocalCache();

  // Returns the live value, or nullptr. The pointer is valid until the next non-const call on this
  // cache (do not hold it across a fiber wait). Never allocates.
  const std::string* GetIfPresent(std::string_view key);
  // A copy of the live value, or nullopt.
  std::optional<std::string> Get(std::string_view key);

  // Inserts or replaces. The three-argument form gives this write its own time-to-live (instead of
  // the Expiry policy's); ttl <= 0 removes the value at once (listener: kExpired).
  void Put(std::string_view key, std::string_view value);
  void Put(std::string_view key, std::string_view value, absl::Duration ttl);

  // Inserts or replaces with an absolute deadline in the clock's MonotonicNow domain
  // (absl::InfiniteFuture() = never). A deadline <= now removes the value at once (kExpired).
  // Cache-wide expire_after_write/access and the Expiry policy still apply (the earliest wins).
  void PutUntil(std::string_view key, std::string_view value, absl::Time deadline);
  // Replaces a live entry's per-entry deadline (EXPIRE / PERSIST); the value, its queue position
  // and the cache-wide limits are untouched. Returns false if the key is absent or expired.
  bool SetDeadline(std::string_view key, absl::Time deadline);
  // The live entry's effective deadline (absl::InfiniteFuture() if it never expires); nullopt if
  // absent or expired. No side effects on the policy or the statistics.
  std::optional<absl::Time> DeadlineOf(std::string_view key) const;
  // The live value, or nullptr, with no side effect on the policy, statistics or expiry (a
  // replicated state machine's own reads, which must not depend on who reads what). The pointer
  // is valid until the next non-const call.
  const std::string* Peek(std::string_view key) const;
  // Calls fn for every live entry, in no particular order. fn must not call into the cache.
  void ForEachEntry(
      absl::FunctionRef<void(std::string_view key, std::string_view value, absl::Time deadline)>
          fn) const;

  // --- Deferred eviction (see the file comment) ---
  // The keys the policy would evict, in order, to free at least `weight_to_free` (at most
  // `max_keys` of them). Removes nothing; only policy state (the admission lottery) moves.
  std::vector<std::string> EvictionCandidates(int64_t weight_to_free, size_t max_keys);
  // Removes a live entry for capacity (listener: kSize). Returns whether one was removed. Then,
  // if the cache fits again, pending window overflow moves into the main space.
  bool Evict(std::string_view key);

  // Explicit removal (listener: kExplicit). Invalidate returns whether a live entry was removed.
  bool Invalidate(std::string_view key);
  void InvalidateAll();
  // Removes every entry for which predicate(key, value) is true, in a deterministic order
  // (window, probation, protected; least recent first). Returns how many were removed.
  int64_t InvalidateIf(absl::FunctionRef<bool(std::string_view key, std::string_view value)>);

  // Single-flight read-through; see the file comment. `done` runs synchronously on a hit, on a
  // synchronous loader, and on ResourceExhausted (kMaxInflightLoads, kMaxWaitersPerLoad).
  void GetWith(std::string_view key, Loader loader, LoadDone done);

  // Expires every entry due by the clock's now (the timer wheel otherwise lags by up to ~1 s).
  void RunPendingTasks();
  void CleanUp() { RunPendingTasks(); }

  int64_t size() const { return static_cast<int64_t>(entries_.size()); }
  int64_t weight() const { return total_weight_; }
  int64_t max_weight() const { return max_weight_; }
  const CacheStats& stats() const { return stats_; }
  int64_t inflight_loads() const { return static_cast<int64_t>(loads_.size()); }

  // Introspection for tests and metrics. Those that depend on the queues first apply buffered
  // reads (logically const: the policy state they report is the same either way).
  std::optional<Queue> QueueOf(std::string_view key) const;
  int64_t window_max_weight() const { return window_max_weight_; }
  int64_t protected_max_weight() const { return protected_max_weight_; }
  int64_t window_weight() const { return window_weight_; }
  int64_t protected_weight() const {
    DrainReadsLogicallyConst();
    return protected_weight_;
  }
  int Frequency(std::string_view key) const;
  // Keys of one queue, least recent first.
  std::vector<std::string> KeysOf(Queue queue) const;
  // Checks every invariant in the file comment; crashes loudly on a violation. O(size).
  void CheckInvariants() const;

 private:
  friend class LoadCompletion;
  using Entry = internal::Entry;
  using AccessList = IntrusiveList<Entry, internal::AccessTag>;

  int64_t NowNs() const;
  // Reads the clock and advances the wheel, if anything in the cache can expire.
  int64_t Tick();
  Entry* Find(std::string_view key, uint64_t hash) const;
  void AssertNotInListener() const;

  void OnHit(Entry* e, int64_t now_ns);
  // Applies the buffered read moves, in order. Must run before anything reads or changes queues.
  void DrainReads();
  void DrainReadsLogicallyConst() const { const_cast<LocalCache*>(this)->DrainReads(); }
  void RecordAccess(bool hit);
  void SetDeadlinesOnWrite(Entry* e, int64_t now_ns, std::optional<absl::Duration> ttl,
                           std::optional<int64_t> deadline_ns,
                           bool created);
  void UpdateTimer(Entry* e, int64_t new_deadline_ns);
  void PutInternal(std::string_view key, std::string_view value,
                   std::optional<absl::Duration> ttl, std::optional<int64_t> deadline_ns = {});
  // Absolute time in the clock's domain -> entry time (ns since origin_), saturating.
  int64_t ToEntryNs(absl::Time t) const;
  absl::Time FromEntryNs(int64_t ns) const;
  bool Expired(const Entry* e) const;  // by the clock's now, without side effects
  // Deferred mode: moves window overflow into probation while the cache fits.
  void AdmitWindowOverflowIfRoom();
  uint32_t WeightOf(std::string_view key, std::string_view value) const;

  AccessList& ListOf(Queue queue);
  void Unlink(Entry* e);
  void Remove(Entry* e, RemovalCause cause);
  void Notify(std::string_view key, std::string_view value, RemovalCause cause);
  void Promote(Entry* e);
  void DemoteProtectedOverflow();
  void Evict();
  bool Admit(const Entry* candidate, const Entry* victim);
  void AdjustWindow(int64_t adjustment);
  void SupersedeLoad(std::string_view key);

  void FinishLoad(internal::PendingLoad& load, absl::StatusOr<std::string> result);

  const Clock& clock_;
  const absl::Time origin_;  // Clock time at construction: entry times are ns since then.
  const int64_t max_weight_;
  Weigher weigher_;
  const int64_t expire_after_write_ns_;
  const int64_t expire_after_access_ns_;
  std::unique_ptr<Expiry> expiry_;
  RemovalListener listener_;
  const bool adaptive_window_;
  const bool deferred_eviction_;
  bool timed_;  // Whether any entry can expire (so reads must look at the clock).

  absl::flat_hash_set<Entry*, internal::EntryHash, internal::EntryEq> entries_;
  AccessList window_;
  AccessList probation_;
  AccessList protected_;
  int64_t total_weight_ = 0;
  int64_t window_weight_ = 0;
  int64_t protected_weight_ = 0;
  int64_t window_max_weight_;
  int64_t protected_max_weight_;

  FrequencySketch sketch_;
  const WindowAdaptation window_adaptation_;
  HillClimber climber_;
  WindowTuner tuner_;
  std::array<Entry*, kReadBufferSize> read_buffer_;
  int read_buffer_size_ = 0;
  Random admission_random_;
  TimerWheel wheel_;
  CacheStats stats_;
  bool in_listener_ = false;

  absl::flat_hash_map<std::string, std::shared_ptr<internal::PendingLoad>> loads_;
};

}  // namespace crema::cache

#endif  // CREMA_CACHE_LOCAL_CACHE_H_
