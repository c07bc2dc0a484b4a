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
//   if (crema::cache::ValuePtr v = cache.GetIfPresent("k")) Use(*v);  // *v is a string_view
//
// THREADING CONTRACT: not thread-safe, by design. A LocalCache belongs to one shard's event loop:
// each Raft group's state machine is applied by a single fiber, and reads are served by fibers of
// the same loop, which run cooperatively (one at a time, switching only at explicit waits). So no
// operation ever races another, and the read path takes no lock and executes no atomic
// read-modify-write: a hit is one hash lookup and a record appended to a small read buffer (its
// policy bookkeeping is applied in batches, see below). To use more cores, shard: run one
// LocalCache per thread (per shard), never share one across threads. Fibers must not keep a
// ValuePtr from GetIfPresent or Peek across a wait (see below).
//
// Storage (entry.h, entry_index.h): one heap allocation per entry holding a 24-byte header (the
// access-queue links, sizes, queue), the key and the value; a 40-byte timer block only for entries
// that have had a finite deadline; a weight only with a weigher. The index is a Robin Hood table
// of 8-byte slots (pointer, hash tag, probe distance), at most 7/8 full. 1,000,000 entries of
// 16-byte keys and 32-byte values take ~99 bytes each in all (docs/cache.md).
//
// Policy (W-TinyLFU, after Einziger, Friedman & Manes, ACM ToS 2017, and Caffeine):
//   * New entries enter an LRU "window" (1% of capacity initially). Entries pushed out of the
//     window become candidates for the main space, a segmented LRU: "probation" (entries seen in
//     main once) and "protected" (entries hit while in probation; 80% of main). A protected
//     overflow is demoted back to probation's most-recent end.
//   * When the cache is over capacity, each candidate competes with the main space's victim (the
//     least recent probation entry): a count-min sketch of recent read frequency (4-bit counters,
//     conservative update, halved every 10 x capacity reads) decides; the less frequent one is
//     evicted (ties keep the victim). To resist hash flooding, a candidate at least
//     kAdmitLotteryFrequency frequent that loses is still admitted with probability 1/128, drawn
//     from a crema::Random seeded by the options (deterministic).
//   * The shape adapts (policy_shadows.h, the default): shadow W-TinyLFUs of a grid of
//     configurations run on a hash-sampled subset of the keys; the cache adopts the best one's
//     window size and two structural knobs: where a window hit goes (stays in the window, or moves
//     to the main space as ARC moves T1 hits to T2) and whether a missed key the sketch has seen
//     before enters the window's LRU end (competing for main at once). The window moves towards
//     the chosen size in bounded steps; within a bracket around it (policy_shadows.h, BracketOf)
//     a shadow-queue tuner (window_tuner.h) refines the window on every miss, faster than the
//     shadows' scoring periods. The shadow-queue tuner alone and hill climbing (hill_climber.h,
//     Caffeine's method) remain as options; they size the window only.
//   * Reads are batched: a read appends (key hash, entry) to a buffer of kReadBufferSize records;
//     the batch is applied in order, with its memory prefetched, when it fills or before anything
//     else looks at or changes the policy (writes, removals, expiry, introspection): sketch count,
//     shadow simulation of sampled keys, queue move. Nothing observes the policy in between, so it
//     is exactly that of applying each read at once; only the memory accesses are batched.
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
// asks `EvictionCandidates(weight)` for the keys the policy would evict (the very plan automatic
// eviction applies after each write: the same duels, run without removing anything) and later
// removes them with `Evict(key)` — in Crema, the shard leader proposes them through the Raft log
// and every replica applies the same removals. Policy adaptation is driven by reads only, so it
// is the same in both modes. Absolute deadlines (`PutUntil`, `SetDeadline`) are in the clock's
// MonotonicNow domain; a replicated cache gives the cache a clock that reads the log's time.
//
// Invariants (checked by tests, asserted in debug builds): total weight <= max_weight after every
// public operation (automatic eviction only); every entry is on exactly one queue; window/protected
// weights match their queues; an entry with a finite deadline has a timer block and is on the
// timer wheel; the read buffer holds only live entries (it is drained before any removal or move
// of an entry) and at most kReadBufferSize of them.
#ifndef CREMA_CACHE_LOCAL_CACHE_H_
#define CREMA_CACHE_LOCAL_CACHE_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/functional/any_invocable.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "cache/cache_options.h"
#include "cache/entry.h"
#include "cache/entry_index.h"
#include "cache/frequency_sketch.h"
#include "cache/hill_climber.h"
#include "cache/intrusive_list.h"
#include "cache/policy_shadows.h"
#include "cache/timer_wheel.h"
#include "cache/window_tuner.h"
#include "node/clock.h"
#include "node/random.h"

namespace crema::cache {

class LocalCache;

// A cached value, used like a pointer: null when absent, else `*v` (or `v->`) is the value's
// bytes as a std::string_view. The bytes live in the cache: valid until the next non-const call
// on it (do not hold a ValuePtr across a fiber wait).
//   if (crema::cache::ValuePtr v = cache.GetIfPresent("k")) Use(*v);
class ValuePtr {
 public:
  ValuePtr() = default;
  ValuePtr(std::nullptr_t) {}  // NOLINT: converts from nullptr like a pointer.
  explicit ValuePtr(std::string_view value) : value_(value), present_(true) {}

  explicit operator bool() const { return present_; }
  // REQUIRES: present.
  const std::string_view& operator*() const { return value_; }
  const std::string_view* operator->() const { return &value_; }
  friend bool operator==(const ValuePtr& v, std::nullptr_t) { return !v.present_; }

 private:
  std::string_view value_;
  bool present_ = false;
};

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
  // Largest change of the window's size per step towards the size the shadows chose (so that one
  // operation never moves more than this many entries between queues).
  static constexpr int64_t kMaxWindowStep = 64;
  // Bound on the fine tuner's shadow records per side (WindowTuner's max_records_per_side).
  static constexpr int64_t kFineTunerMaxRecords = 2048;
  // Reads whose policy bookkeeping waits to be applied in one batch (see the file comment).
  static constexpr int kReadBufferSize = 64;

  // REQUIRES: options.max_weight > 0; `clock` outlives the cache.
  LocalCache(const Clock& clock, CacheOptions options);
  LocalCache(const LocalCache&) = delete;
  LocalCache& operator=(const LocalCache&) = delete;
  // Removes nothing through the listener; in-flight loads' waiters get absl::CancelledError.
  ~LocalCache();

  // Returns the live value, or null. Valid until the next non-const call on this cache (do not
  // hold it across a fiber wait). Never allocates.
  ValuePtr GetIfPresent(std::string_view key);
  // The same, and on a hit sets *deadline to the entry's effective deadline (as DeadlineOf would,
  // without a second lookup).
  ValuePtr GetIfPresent(std::string_view key, absl::Time* deadline);
  // A copy of the live value, or nullopt.
  std::optional<std::string> Get(std::string_view key);

  // Inserts or replaces. The three-argument form gives this write its own time-to-live (instead of
  // the Expiry policy's); ttl <= 0 removes the value at once (listener: kExpired).
  // REQUIRES: key and value shorter than 4 GiB.
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
  // The live value, or null, with no side effect on the policy, statistics or expiry (a
  // replicated state machine's own reads, which must not depend on who reads what). Valid until
  // the next non-const call.
  ValuePtr Peek(std::string_view key) const;
  // Calls fn for every live entry, in a deterministic order (window, probation, protected; least
  // recent first; pending reads are not applied first, so the order is that of the last write or
  // drain). fn must not call into the cache.
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

  int64_t size() const { return static_cast<int64_t>(index_.size()); }
  int64_t weight() const { return total_weight_; }
  int64_t max_weight() const { return max_weight_; }
  const CacheStats& stats() const { return stats_; }
  int64_t inflight_loads() const { return static_cast<int64_t>(loads_.size()); }

  // Introspection for tests and metrics. Those that depend on policy state first apply buffered
  // reads (logically const: the policy state they report is the same either way).
  std::optional<Queue> QueueOf(std::string_view key) const;
  int64_t window_max_weight() const {
    DrainReadsLogicallyConst();
    return window_max_weight_;
  }
  int64_t protected_max_weight() const {
    DrainReadsLogicallyConst();
    return protected_max_weight_;
  }
  int64_t window_weight() const {
    DrainReadsLogicallyConst();
    return window_weight_;
  }
  int64_t protected_weight() const {
    DrainReadsLogicallyConst();
    return protected_weight_;
  }
  // The policy configuration in force (window hits, repeat misses; see policy_shadows.h).
  PolicyConfig policy() const {
    DrainReadsLogicallyConst();
    return policy_;
  }
  int Frequency(std::string_view key) const;
  // Keys of one queue, least recent first.
  std::vector<std::string> KeysOf(Queue queue) const;
  // Heap bytes of the policy's own structures (sketch, index, shadows), for accounting.
  size_t PolicyMemoryBytes() const;
  // Checks every invariant in the file comment; crashes loudly on a violation. O(size).
  void CheckInvariants() const;

 private:
  friend class LoadCompletion;
  using Entry = internal::Entry;
  using AccessList = IntrusiveList<Entry, internal::AccessTag>;

  // A read whose policy bookkeeping is pending: its key hash, and the entry it hit (nullptr for a
  // miss).
  struct PendingRead {
    uint64_t hash;
    Entry* entry;
  };

  static uint64_t HashOf(std::string_view key);
  static uint64_t HashOf(const Entry* e) { return HashOf(e->key()); }

  int64_t NowNs() const;
  // Reads the clock and advances the wheel, if anything in the cache can expire.
  int64_t Tick();
  void AssertNotInListener() const;

  // --- reads (local_cache.cc) ---
  // GetIfPresent's lookup: the live entry (its read recorded), or null (a miss recorded; an
  // expired entry found is removed).
  const Entry* GetEntry(std::string_view key);
  void OnHit(Entry* e, uint64_t hash, int64_t now_ns);
  void PutInternal(std::string_view key, std::string_view value,
                   std::optional<absl::Duration> ttl, std::optional<int64_t> deadline_ns = {});
  // Moves `e` to a new allocation holding `value` (and a timer block if `timer`), in e's place on
  // its queue, the wheel and the index. REQUIRES: no pending reads.
  Entry* MoveEntry(Entry* e, uint64_t hash, std::string_view value, bool timer);
  void SetDeadlines(Entry* e, int64_t write_deadline_ns, int64_t variable_deadline_ns,
                    int64_t access_deadline_ns);
  void UpdateTimer(Entry* e, int64_t new_deadline_ns);
  // Absolute time in the clock's domain -> entry time (ns since origin_), saturating.
  int64_t ToEntryNs(absl::Time t) const;
  absl::Time FromEntryNs(int64_t ns) const;
  bool Expired(const Entry* e) const;  // by the clock's now, without side effects
  uint32_t WeightOf(std::string_view key, std::string_view value) const;
  AccessList& ListOf(Queue queue);
  const AccessList& ListOf(Queue queue) const { return const_cast<LocalCache*>(this)->ListOf(queue); }
  void Unlink(Entry* e, uint64_t hash);
  void Remove(Entry* e, RemovalCause cause);
  void Notify(std::string_view key, std::string_view value, RemovalCause cause);
  void SupersedeLoad(std::string_view key);
  void FinishLoad(internal::PendingLoad& load, absl::StatusOr<std::string> result);

  // --- policy (local_cache_policy.cc) ---
  // Buffers a read's bookkeeping; applies the batch when the buffer is full.
  void RecordRead(uint64_t hash, Entry* hit) {
    read_buffer_[read_buffer_size_++] = PendingRead{hash, hit};
    if (read_buffer_size_ == kReadBufferSize) DrainReads();
  }
  // Applies the buffered reads, in order. Must run before anything reads or changes the policy.
  void DrainReads();
  void DrainReadsLogicallyConst() const { const_cast<LocalCache*>(this)->DrainReads(); }
  void ApplyRead(const PendingRead& read);
  void InsertNew(Entry* e, uint64_t hash);
  void Promote(Entry* e);
  void DemoteProtectedOverflow();
  // Evicts by the plan until the cache fits, then admits the window's overflow into probation.
  void EvictForCapacity();
  // The entries W-TinyLFU's duels would evict, in order, to free `weight_to_free` (at most
  // `max_keys`): a dry run shared by both eviction modes. Only the admission lottery moves.
  std::vector<Entry*> PlanEvictions(int64_t weight_to_free, size_t max_keys);
  // Removes an entry for capacity (kSize), telling the shadow-queue tuner.
  void EvictEntry(Entry* e, uint64_t hash);
  bool Admit(const Entry* candidate, const Entry* victim);
  void AdjustWindow(int64_t adjustment);
  // Moves the window one bounded step towards the size the shadows chose.
  void StepWindowTowardsTarget();
  // Tell the shadow-queue tuner (if any) that an entry left the window, or was lost to capacity
  // by the window side (a rejected candidate) or the main side.
  void NoteWindowExit() {
    if (tuner_ != nullptr) tuner_->OnWindowExit();
  }
  void NoteLoss(const Entry* e, uint64_t hash, bool by_window);
  // Deferred mode: moves window overflow into probation while the cache fits.
  void AdmitWindowOverflowIfRoom();

  const Clock& clock_;
  const absl::Time origin_;  // Clock time at construction: entry times are ns since then.
  const int64_t max_weight_;
  Weigher weigher_;
  const int64_t expire_after_write_ns_;
  const int64_t expire_after_access_ns_;
  std::unique_ptr<Expiry> expiry_;
  RemovalListener listener_;
  const bool adaptive_window_;
  const WindowAdaptation window_adaptation_;
  const bool deferred_eviction_;
  bool timed_;  // Whether any entry can expire (so reads must look at the clock).

  EntryIndex index_;
  AccessList window_;
  AccessList probation_;
  AccessList protected_;
  int64_t total_weight_ = 0;
  int64_t window_weight_ = 0;
  int64_t protected_weight_ = 0;
  int64_t window_max_weight_;
  int64_t protected_max_weight_;
  // The window size the policy wants; window_max_weight_ moves towards it in bounded steps.
  int64_t window_target_weight_;
  // kMiniSimulation: the range in which the fine tuner (tuner_) may move the target: the chosen
  // configuration's BracketOf (before the first scoring period, the initial window alone).
  int64_t fine_low_weight_;
  int64_t fine_high_weight_;

  FrequencySketch sketch_;
  PolicyConfig policy_;
  std::unique_ptr<PolicyShadows> shadows_;  // kMiniSimulation only.
  HillClimber climber_;
  // kShadowQueues: sizes the window alone; kMiniSimulation: refines it within the fine bracket.
  std::unique_ptr<WindowTuner> tuner_;
  std::array<PendingRead, kReadBufferSize> read_buffer_;
  int read_buffer_size_ = 0;
  Random admission_random_;
  TimerWheel wheel_;
  CacheStats stats_;
  bool in_listener_ = false;

  absl::flat_hash_map<std::string, std::shared_ptr<internal::PendingLoad>> loads_;
};

}  // namespace crema::cache

#endif  // CREMA_CACHE_LOCAL_CACHE_H_
