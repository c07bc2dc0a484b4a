// FakeCacheApi: an in-memory, single-replica stand-in for crema::CacheApi, for testing the front
// ends (RESP, HTTP, the server shell) without a cluster. A TEST DOUBLE ONLY: testonly, never
// linked into a shipped binary, and nothing measured on it is reported as Crema's.
//
// It keeps CacheApi's contract where front ends can observe it: error codes (INVALID_ARGUMENT for
// bad keys/values/TTLs, FAILED_PRECONDITION for non-integer INCR or overflow), expiry by the
// clock's wall time, conditions, previous values. Tests can inject a delay per call (the call
// sleeps in its fiber, so pipelining and ordering are exercised), a one-shot error, and read back
// the options of the last call.
//
// Thread safety: none; fiber-only like the real node when a delay is set.
#ifndef CREMA_TRANSPORT_TESTING_FAKE_CACHE_API_H_
#define CREMA_TRANSPORT_TESTING_FAKE_CACHE_API_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/container/btree_map.h"
#include "node/cache_node/cache_api.h"
#include "node/cluster/cluster_map.h"
#include "node/clock.h"
#include "node/executor.h"

namespace crema::testing {

class FakeCacheApi final : public CacheApi {
 public:
  // `executor` may be null when no delay is ever set.
  FakeCacheApi(const Clock* clock, Executor* executor) : clock_(clock), executor_(executor) {}

  // --- test controls ---
  void set_delay(absl::Duration d) { delay_ = d; }
  // TryGetNow answers (at once, ignoring the delay) instead of always declining.
  void set_inline_reads(bool on) { inline_reads_ = on; }
  // MultiPutEach fails this key's entry with `status` (every time); other entries are written.
  void FailKey(std::string key, absl::Status status) { fail_keys_[std::move(key)] = status; }
  // How many times a write stored a value under `key` (exactly-once checks).
  int writes_of(const std::string& key) const {
    auto it = writes_.find(key);
    return it == writes_.end() ? 0 : it->second;
  }
  // The next call (of any kind) fails with `status`.
  void FailNext(absl::Status status) { fail_next_ = std::move(status); }
  std::optional<ReadConsistency> last_read_consistency() const { return last_read_; }
  // ReadOptions::now of every TryGetNow call, in order.
  const std::vector<std::optional<ClockReading>>& inline_readings() const {
    return inline_readings_;
  }
  const std::vector<std::string>& calls() const { return calls_; }  // "Get", "Put", ...
  int64_t max_concurrent_calls() const { return max_concurrent_; }
  ClusterStatus& status() { return status_; }
  std::vector<std::string> admin_log;  // "admit 4", "drain 2", "transfer 3 to 1", ...
  // Keyspaces created at run time, by the metadata group's own pure rules
  // (cluster::ApplyMetaCommandOrWhy) on a one-node map that starts with `initial` (from
  // keyspace::ParseKeyspaces). Off (Keyspaces() nullopt: the flags rule) until called.
  void EnableKeyspaces(const std::vector<keyspace::KeyspaceSpec>& initial);

  // --- CacheApi ---
  absl::StatusOr<std::optional<std::string>> Get(std::string_view key,
                                                 const ReadOptions& options) override;
  absl::StatusOr<std::vector<std::optional<std::string>>> MultiGet(
      const std::vector<std::string>& keys, const ReadOptions& options) override;
  absl::StatusOr<TtlResult> Ttl(std::string_view key, const ReadOptions& options) override;
  std::optional<absl::StatusOr<std::optional<std::string>>> TryGetNow(
      std::string_view key, const ReadOptions& options) override;
  absl::StatusOr<PutResult> Put(std::string_view key, std::string_view value,
                                const PutOptions& options) override;
  absl::Status MultiPut(const std::vector<std::pair<std::string, std::string>>& entries,
                        const Expiration& expiration, const WriteOptions& options) override;
  std::vector<absl::Status> MultiPutEach(
      const std::vector<std::pair<std::string, std::string>>& entries,
      const Expiration& expiration, const WriteOptions& options) override;
  absl::StatusOr<std::optional<std::string>> Delete(std::string_view key,
                                                    const WriteOptions& options) override;
  absl::StatusOr<bool> CompareAndSet(std::string_view key, std::optional<std::string> expected,
                                     std::string_view new_value, const Expiration& expiration,
                                     const WriteOptions& options) override;
  absl::StatusOr<int64_t> Increment(std::string_view key, int64_t delta,
                                    const WriteOptions& options) override;
  absl::StatusOr<bool> Expire(std::string_view key, const Expiration& expiration,
                              const WriteOptions& options) override;
  absl::StatusOr<bool> ExpireIf(std::string_view key, const Expiration& expiration,
                                ExpireCondition condition, const WriteOptions& options) override;
  absl::StatusOr<std::optional<std::string>> GetAndTouch(std::string_view key,
                                                         std::optional<Expiration> expiration,
                                                         const WriteOptions& options) override;
  absl::StatusOr<int64_t> Size(const ReadOptions& options) override;
  absl::Status AdmitNode(NodeId node, const WriteOptions& options) override;
  absl::Status DrainNode(NodeId node, const WriteOptions& options) override;
  absl::Status RemoveNode(NodeId node, const WriteOptions& options) override;
  absl::Status TransferShardLeader(uint32_t shard, NodeId to,
                                   const WriteOptions& options) override;
  ClusterStatus Status() override { return status_; }
  std::optional<KeyspaceTable> Keyspaces() override;
  uint64_t KeyspacesVersion() override { return map_ ? map_->version : 0; }
  absl::StatusOr<keyspace::Keyspace> CreateKeyspace(std::string_view spec,
                                                    const WriteOptions& options) override;
  absl::Status DropKeyspace(uint32_t index, uint64_t generation,
                            const WriteOptions& options) override;

 private:
  struct Entry {
    std::string value;
    absl::Time deadline = absl::InfiniteFuture();
  };
  // Records the call, applies the injected delay and one-shot failure.
  absl::Status Enter(const char* name);
  void Leave() { --concurrent_; }
  Entry* Find(std::string_view key);  // live entries only (expired ones are erased)
  absl::StatusOr<absl::Time> DeadlineFor(const Expiration& e, const Entry* existing) const;

  const Clock* clock_;
  Executor* executor_;
  absl::Duration delay_ = absl::ZeroDuration();
  bool inline_reads_ = false;
  absl::btree_map<std::string, absl::Status> fail_keys_;
  absl::btree_map<std::string, int> writes_;
  absl::Status fail_next_;
  std::optional<ReadConsistency> last_read_;
  std::vector<std::optional<ClockReading>> inline_readings_;
  std::vector<std::string> calls_;
  int64_t concurrent_ = 0;
  int64_t max_concurrent_ = 0;
  ClusterStatus status_;
  absl::btree_map<std::string, Entry, std::less<>> data_;
  std::optional<cluster::ClusterMap> map_;  // EnableKeyspaces
};

}  // namespace crema::testing

#endif  // CREMA_TRANSPORT_TESTING_FAKE_CACHE_API_H_
