// KvSimClient: a simulated client of the replicated KV store that records every call in a
// linearizability history, timed in the simulator's *global* virtual time (never a node's skewed
// clock), so real-time order in the history is real.
//
// Until `ledger->stop`, it loops: think 1-20 ms, pick one of `keys` keys and an operation (put 40%,
// get 30%, cas 20% expecting the value it last saw there, delete 10%; values are unique
// per call, "c<client>.<n>"), and run it through
// kv::KvClient (retries with the same seq: exactly-once). Done -> completed in the history;
// no answer in time -> indeterminate. After `stop`, if `final_reads` is set, it reads every key
// once more (these reads are in the history too: an acknowledged write that was lost shows up as
// a non-linearizable read).
//
// Thread safety: none (simulator thread). The ledger and the simulator outlive the client.
#ifndef CREMA_SIM_SCENARIOS_RAFTKV_KV_SIM_CLIENT_H_
#define CREMA_SIM_SCENARIOS_RAFTKV_KV_SIM_CLIENT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/btree_map.h"
#include "chaos/history.h"
#include "consensus/kv/kv_client.h"
#include "sim/simulator.h"

namespace crema::kvsim {

struct KvSimLedger {
  static constexpr size_t kMaxViolations = 16;
  chaos::HistoryRecorder history;
  bool stop = false;
  int busy_clients = 0;
  int64_t liveness_start_ns = -1;        // set at heal; writes invoked after it count below
  uint64_t acked_writes_after_heal = 0;
  uint64_t done = 0, indeterminate = 0, errors = 0;
  std::vector<std::string> violations;   // protocol-level surprises (at most kMaxViolations)
  void Violation(std::string what) {
    if (violations.size() < kMaxViolations) violations.push_back(std::move(what));
  }
};

struct KvSimClientOptions {
  std::vector<NodeId> servers;
  int keys = 12;
  bool final_reads = false;
  bool reads_only = false;  // gets only (a pinned reader: raft_kv_scenario.cc)
  kv::KvClientOptions client;
};

class KvSimClient final : public sim::NodeProgram {
 public:
  KvSimClient(Env env, const sim::Simulator* sim, KvSimLedger* ledger,
              KvSimClientOptions options);

 private:
  void Run();
  // Runs one call and records it. False if the fiber was cancelled.
  bool Record(const kv::Call& call);
  absl::Time Now() const { return absl::FromUnixNanos(sim_->now_ns()); }

  Env env_;
  const sim::Simulator* sim_;
  KvSimLedger* ledger_;
  KvSimClientOptions options_;
  kv::KvClient client_;
  uint64_t calls_ = 0;
  absl::btree_map<std::string, std::optional<std::string>> last_seen_;  // <= `keys` entries
};

}  // namespace crema::kvsim

#endif  // CREMA_SIM_SCENARIOS_RAFTKV_KV_SIM_CLIENT_H_
