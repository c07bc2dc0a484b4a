// CacheStateMachine: one replica of one shard of the distributed cache — what a shard's Raft log
// drives. Its data lives in a W-TinyLFU LocalCache (cache/local_cache.h).
//
// THE RULE: every replica of a shard holds identical data at every applied index — the same keys,
// values and deadlines, and the same sessions — so conditional writes, increments and digests
// agree everywhere. Nothing a replica does on its own may change that data:
//   * Time. Each command carries its proposing leader's wall clock; the log time is the running
//     maximum of those stamps (the same at every index on every replica, never decreasing). The
//     LocalCache's clock IS the log time (LogClock), so expiry inside the state machine, TTLs
//     (`EX 10` = log time + 10 s), session expiry and request ages are all judged by it.
//   * Eviction. The cache runs in deferred-eviction mode: applying a write never evicts. When the
//     shard is over capacity, the leader asks its own policy for victims (EvictionCandidates) and
//     proposes an kEvict command; every replica removes the same keys when it applies it.
//   * Expiry. Entries whose deadline has passed by log time are gone for every command. On an idle
//     shard log time stands still, so the leader proposes a kTick now and then (while entries
//     can expire) to let replicas drop them.
//   * Reads. Local reads (not through the log) change only policy state (recency, frequency),
//     never data. They judge expiry by the reader's own wall clock as well: an entry is never
//     returned once the reader's clock has passed its deadline. With wall clocks at most
//     `max_clock_skew` apart, an entry is never read more than that past its deadline (the
//     deadline was set from a leader's clock), and a lagging log time never keeps it alive.
//
// Bounds (docs/cache-node.md):
//   * Capacity: weight may exceed `capacity` on every replica (leader and followers alike) by the
//     writes applied between the leader noticing and its eviction entry being applied: at most the
//     shard's uncommitted Raft window, plus one eviction round-trip of writes. The leader refuses
//     new writes (RESOURCE_EXHAUSTED) while its replica is above `HardCeiling()`.
//   * Sessions and kept results: SessionTable's bounds.
//
// Checkpoint: version | config | log time | entries sorted by key | sessions — deterministic,
// so equal states give equal bytes and equal digests. Restore never crashes on garbage.
//
// Thread safety: none; the node's event loop (the Raft driver applies, fibers read).
#ifndef CREMA_CACHE_REPLICATED_CACHE_STATE_MACHINE_H_
#define CREMA_CACHE_REPLICATED_CACHE_STATE_MACHINE_H_

#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "cache/local_cache.h"
#include "cache/replicated/command.h"
#include "cache/replicated/session_table.h"
#include "consensus/driver/state_machine.h"
#include "node/clock.h"

namespace crema::replicated {

// A clock that reads the log time. Never decreases.
class LogClock final : public Clock {
 public:
  absl::Time MonotonicNow() const override { return now_; }
  absl::Time Now() const override { return now_; }
  void AdvanceTo(absl::Time t) {
    if (t > now_) now_ = t;
  }

 private:
  absl::Time now_ = absl::UnixEpoch();
};

// Replicated settings of a shard: identical on every replica (from the cluster map at creation,
// then from checkpoints).
struct ShardConfig {
  int64_t capacity = 10'000;  // in entries, or bytes with weigh_bytes
  bool weigh_bytes = false;   // weight = key + value + kEntryOverheadBytes
  int64_t session_ttl_ns = absl::ToInt64Nanoseconds(absl::Minutes(10));
  int64_t max_request_age_ns = absl::ToInt64Nanoseconds(absl::Minutes(2));
  friend bool operator==(const ShardConfig&, const ShardConfig&) = default;
  [[nodiscard]] absl::Status Validate() const;
};

class CacheStateMachine final : public raft::StateMachine {
 public:
  static constexpr int64_t kEntryOverheadBytes = 64;
  static constexpr size_t kMaxCheckpointEntries = size_t{1} << 27;
  // How far below capacity an eviction round brings the shard (percent of capacity), so that a
  // steady write load does not propose an eviction per write.
  static constexpr int64_t kEvictionHeadroomPercent = 2;
  // Writes are refused by the leader above HardCeiling(): capacity plus a quarter of it, and at
  // least kMinCeilingEntries entries (or kMinCeilingBytes bytes) over it, so a tiny shard still
  // takes writes while its evictions go through the log.
  static constexpr int64_t kHardCeilingPercent = 125;
  static constexpr int64_t kMinCeilingEntries = 64;
  static constexpr int64_t kMinCeilingBytes = 64 * (kEntryOverheadBytes + 1024);

  // REQUIRES: config.Validate().ok().
  explicit CacheStateMachine(const ShardConfig& config);

  // --- raft::StateMachine ---
  void Apply(raft::Index index, std::string_view command) override {
    (void)ApplyWithResult(index, command);
  }
  std::string ApplyWithResult(raft::Index index, std::string_view command) override;
  std::string Checkpoint() override;
  [[nodiscard]] absl::Status Restore(std::string_view checkpoint) override;

  // --- local reads (see the file comment); `wall_now` is the reader's wall clock ---
  std::optional<std::string> Read(std::string_view key, absl::Time wall_now);
  // The live entry's deadline (InfiniteFuture: never); nullopt if absent at `wall_now`.
  std::optional<absl::Time> DeadlineOf(std::string_view key, absl::Time wall_now) const;

  // --- leader maintenance ---
  int64_t weight() const { return cache_->weight(); }
  int64_t size() const { return cache_->size(); }
  // Bytes held: keys + values + kEntryOverheadBytes per entry (= weight() with weigh_bytes).
  int64_t bytes() const { return data_bytes_ + size() * kEntryOverheadBytes; }
  int64_t capacity() const { return config_.capacity; }
  int64_t HardCeiling() const {
    const int64_t headroom = config_.weigh_bytes ? kMinCeilingBytes : kMinCeilingEntries;
    return std::max(config_.capacity / 100 * kHardCeilingPercent +
                        config_.capacity % 100 * kHardCeilingPercent / 100,
                    config_.capacity + headroom);
  }
  // Keys to evict now (the leader's policy), empty if within capacity.
  std::vector<std::string> EvictionCandidates(size_t max_keys);
  bool may_expire() const { return timed_entries_hint_; }

  absl::Time log_time() const { return clock_.MonotonicNow(); }
  raft::Index applied() const { return applied_; }
  const ShardConfig& config() const { return config_; }
  const cache::CacheStats& cache_stats() const { return cache_->stats(); }
  const SessionTable& sessions() const { return sessions_; }
  // XXH3 of Checkpoint(): equal iff the replicated state is equal (up to collisions).
  uint64_t Digest();

  // TEST ONLY, a planted bug: this replica evicts on its own (by its local policy) whenever an
  // applied write leaves it over capacity — the divergence the design forbids. The cache
  // scenario must catch it.
  void PlantSelfEvictionForTesting() { planted_self_eviction_ = true; }

 private:
  Result Execute(const Command& c);
  Result Put(const Command& c);
  Result Cas(const Command& c);
  Result Increment(const Command& c);
  Result Expire(const Command& c);
  Result ExpireIf(const Command& c);
  Result GetAndTouch(const Command& c);
  absl::Time Resolve(const Expiry& expiry, std::optional<absl::Time> current,
                     int64_t default_ttl_ns) const;
  // Resolve with `key`'s current deadline, looked up only when the expiry keeps it.
  absl::Time ResolveFor(const Expiry& expiry, std::string_view key, int64_t default_ttl_ns) const;
  void ResetCache();
  // PutUntil, counting the bytes in (the removal listener counts them out).
  void Store(std::string_view key, std::string_view value, absl::Time deadline);

  ShardConfig config_;
  LogClock clock_;
  std::unique_ptr<cache::LocalCache> cache_;
  SessionTable sessions_;
  raft::Index applied_ = 0;
  bool timed_entries_hint_ = false;  // some entry was given a finite deadline
  int64_t data_bytes_ = 0;           // keys + values of the entries in cache_ (for metrics)
  bool planted_self_eviction_ = false;
};

// Parses a Redis-style decimal integer ("-12", no '+', spaces or leading zeros); nullopt if not.
std::optional<int64_t> ParseStrictInt64(std::string_view s);

}  // namespace crema::replicated

#endif  // CREMA_CACHE_REPLICATED_CACHE_STATE_MACHINE_H_
