// Workload: the chaos run's clients — several threads, each speaking RESP over real sockets to a
// random node per operation, recording every operation in the project's history format
// (chaos/history.h) timed on the host's monotonic clock, with the oracle info the cache oracles
// need (chaos/cache_oracles.h: the node used, the TTL asked for).
//
// Operations, as the simulator's cache workload (sim/scenarios/cache/cache_workload.h) but over
// RESP: SET (some with PX), SET NX (a cas expecting absence), GET linearizable and local (a
// connection per consistency: CREMA.CONSISTENCY), DEL, INCRBY on counter keys, PEXPIRE and
// PERSIST. Values are unique per write. Keys: "k<i>" (half of the operations on a few hot
// ones) and counters "n<i>", in generations that change every key_lifetime (see below).
//
// Outcomes follow the server's error contract (docs/server.md, node/cache_node/cache_api.h):
// replies as they are; -CLUSTERDOWN and -OOM (nothing happened) are errors; a connect that
// failed (nothing sent) is an error; -TIMEOUT, a closed connection, no reply in time and any other
// error are indeterminate. An INCRBY answered "not an integer" is the increment's "fail".
//
// Thread safety: Start/Stop/FinalReads/Take* from one thread; the endpoint source is called from
// the client threads and must be thread-safe.
#ifndef CREMA_TOOLS_CHAOS_WORKLOAD_H_
#define CREMA_TOOLS_CHAOS_WORKLOAD_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/time/time.h"
#include "chaos/cache_oracles.h"
#include "chaos/history.h"
#include "node/network.h"

namespace crema::chaos_tool {

struct Endpoint {
  NodeId id = kNoNode;
  std::string ip;
  int port = 6379;
};

struct WorkloadOptions {
  int clients = 8;
  int keys = 24;
  int hot_keys = 4;
  int counters = 4;
  bool ttls = true;
  size_t max_value_bytes = 200;
  absl::Duration op_timeout = absl::Seconds(4);
  absl::Duration think_max = absl::Milliseconds(20);
  // Jepsen's independent keys: every key_lifetime the clients move to a fresh generation of keys
  // ("k3", then "k3g1", "k3g2", ...), so no key's history grows with the run's length — the
  // linearizability check is per key and exponential in a key's concurrent unknown outcomes.
  // Zero: the same keys for the whole run.
  absl::Duration key_lifetime = absl::Seconds(30);
  uint64_t seed = 1;
};

struct WorkloadCounts {
  uint64_t ok = 0;             // a definite answer (ok, absent, fail)
  uint64_t errors = 0;         // definitely not done
  uint64_t indeterminate = 0;  // unknown
};

class Workload {
 public:
  using Endpoints = std::function<std::vector<Endpoint>()>;
  Workload(WorkloadOptions options, Endpoints endpoints);
  ~Workload();
  Workload(const Workload&) = delete;
  Workload& operator=(const Workload&) = delete;

  void Start();
  // No new operations; joins the threads (bounded: each finishes its operation within op_timeout).
  void Stop();
  // After Stop: reads every key linearizably through random nodes, retried until each gets a
  // definite answer or `bound` passes. Returns the keys that got none.
  std::vector<std::string> FinalReads(absl::Duration bound);

  WorkloadCounts counts() const;
  // Failed and unknown outcomes by kind: the error reply's first word (CLUSTERDOWN, TIMEOUT, ...)
  // or "no-reply" / "not-sent"; at most kMaxErrorKinds kinds.
  absl::btree_map<std::string, uint64_t> error_kinds() const;
  static constexpr size_t kMaxErrorKinds = 32;
  uint64_t operations() const { return operations_.load(); }
  chaos::History TakeHistory();
  std::vector<chaos::OracleInfo> TakeInfo();

 private:
  struct Client;
  void Run(int index);
  // One operation through `endpoint`; records it. True if it got a definite answer.
  bool Execute(Client& client, const Endpoint& endpoint, chaos::Operation op, int64_t ttl_ms,
               int64_t expire_ms);
  std::vector<std::string> AllKeys() const;  // of every generation used so far
  int Generation() const;                     // the keys' generation now

  WorkloadOptions options_;
  Endpoints endpoints_;
  std::atomic<bool> stop_{false};
  int64_t start_ns_ = 0;                    // set by Start, before the threads
  std::atomic<int> max_generation_{0};      // the highest key generation any client used
  std::atomic<uint64_t> operations_{0};
  std::vector<std::thread> threads_;
  mutable std::mutex mu_;
  chaos::HistoryRecorder recorder_;            // guarded by mu_
  std::vector<chaos::OracleInfo> info_;        // guarded by mu_
  WorkloadCounts counts_;                      // guarded by mu_
  absl::btree_map<std::string, uint64_t> why_;  // guarded by mu_
};

}  // namespace crema::chaos_tool

#endif  // CREMA_TOOLS_CHAOS_WORKLOAD_H_
