// CacheWorkload: the cache scenario's clients. Each client runs one operation at a time through a
// random running node (a fiber on that node, calling its CacheApi, as a front end would), and
// records it in the history with true (virtual) invocation and return times, plus what the
// oracles need (chaos/cache_oracles.h: the node used, the TTL asked for).
//
// Operations: puts (some with short TTLs, some only-if-absent), linearizable and local gets,
// deletes, compare-and-sets, increments of counter keys, expire / persist. Keys are hot or cold;
// values are unique per write, of varied sizes. A client whose node crashes (or stalls past the
// watchdog) leaves its operation open — indeterminate — and moves on.
//
// Outcomes are recorded by the API's error contract (node/cache_node/cache_api.h): OK results
// as they are; INVALID_ARGUMENT, RESOURCE_EXHAUSTED and UNAVAILABLE (nothing happened) as errors;
// DEADLINE_EXCEEDED and anything unexpected as indeterminate; FAILED_PRECONDITION of an
// increment as its "fail".
//
// Thread safety: none (the simulator's thread and the nodes' fibers, which are the same thread).
#ifndef CREMA_SIM_SCENARIOS_CACHE_CACHE_WORKLOAD_H_
#define CREMA_SIM_SCENARIOS_CACHE_CACHE_WORKLOAD_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/time/time.h"
#include "chaos/cache_oracles.h"
#include "chaos/history.h"
#include "node/random.h"
#include "sim/simulator.h"

namespace crema::sim {

struct CacheWorkloadOptions {
  int clients = 8;
  int keys = 24;      // "k<i>": puts, gets, cas, deletes, expire
  int hot_keys = 4;   // half of all operations go to these
  int counters = 4;   // "n<i>": increments, gets, deletes
  bool ttls = true;   // some writes with TTLs of 0.5-4 s, and expire / persist
  size_t max_value_bytes = 2000;
  absl::Duration think_max = absl::Milliseconds(30);
  absl::Duration op_timeout = absl::Seconds(3);
  uint32_t num_shards = 16;  // the cluster's (same-shard companion keys)
};

class CacheWorkload {
 public:
  CacheWorkload(Simulator* sim, std::vector<NodeId> nodes, CacheWorkloadOptions options,
                Random random);
  CacheWorkload(const CacheWorkload&) = delete;
  CacheWorkload& operator=(const CacheWorkload&) = delete;

  void Start();
  // No new operations; running ones finish (or are abandoned by their watchdog).
  void Stop() { stopped_ = true; }
  int busy() const { return busy_; }

  // Liveness: writes one key of every shard (of `num_shards`), retrying through random nodes
  // until each shard has acknowledged one. Done when `liveness_done()`.
  void StartLiveness(uint32_t num_shards);
  bool liveness_done() const { return liveness_pending_ == 0 && liveness_started_; }
  // The shards still waiting for their liveness write: key and the last error each saw.
  std::string LivenessReport() const;
  std::vector<std::string> LivenessKeysPending() const;
  // Reads every key linearizably once (through random nodes, retried); done when `!busy()`.
  void StartFinalReads();

  chaos::History TakeHistory() && { return std::move(recorder_).Finish(); }
  const std::vector<chaos::OracleInfo>& info() const { return info_; }
  uint64_t ops_done() const { return ops_done_; }
  uint64_t reads_inline() const { return reads_inline_; }  // answered by TryGetNow
  // Of those, answered with a caller's clock reading (ReadOptions::now).
  uint64_t reads_inline_with_reading() const { return reads_inline_with_reading_; }
  uint64_t indeterminate() const { return indeterminate_; }
  uint64_t errors() const { return errors_; }

 private:
  struct Op;
  void Next(int client);
  void Issue(int client, std::shared_ptr<Op> op, std::function<void(bool acked)> then);
  std::shared_ptr<Op> Draw(int client);
  NodeId PickNode();
  std::string Value(int client);
  void LivenessWrite(int client, std::string key);
  void FinalRead(size_t index);

  Simulator* sim_;
  std::vector<NodeId> nodes_;
  CacheWorkloadOptions options_;
  Random random_;
  chaos::HistoryRecorder recorder_;
  std::vector<chaos::OracleInfo> info_;
  std::vector<uint64_t> op_token_;
  std::vector<uint64_t> writes_;  // per client, for unique values
  absl::btree_map<std::pair<int, std::string>, std::string> last_seen_;  // (client, key) -> value
  bool stopped_ = false;
  int busy_ = 0;
  bool liveness_started_ = false;
  uint32_t liveness_pending_ = 0;
  absl::btree_map<int, std::string> liveness_keys_;  // client -> key, until acknowledged
  absl::btree_map<int, std::string> last_error_;     // client -> its last failed status
  std::vector<std::string> all_keys_;
  uint64_t ops_done_ = 0;
  uint64_t reads_inline_ = 0;
  uint64_t reads_inline_with_reading_ = 0;
  uint64_t indeterminate_ = 0;
  uint64_t errors_ = 0;
};

}  // namespace crema::sim

#endif  // CREMA_SIM_SCENARIOS_CACHE_CACHE_WORKLOAD_H_
