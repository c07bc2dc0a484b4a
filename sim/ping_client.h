// PingClient: a simulated client of the ping protocol, and the ledger the ping scenario's oracle
// checks against.
//
// A client is a simulated node that is never faulted (its messages still cross the faulty
// network). Until `*stop` is set it loops: think for 5-50 ms, send "add <id>" (3 in 4) or
// "get <id>" to a random server, and wait up to `timeout` for the matching reply. An acked add is
// counted as acknowledged *by that server*; an add without an ack is indeterminate (it may or may
// not have been applied). Every total a server reports (ack or value) must not exceed the adds
// sent so far — otherwise the reply invented increments, and a violation is recorded.
//
// Thread safety: none (simulator thread).
#ifndef CREMA_SIM_PING_CLIENT_H_
#define CREMA_SIM_PING_CLIENT_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/btree_map.h"
#include "node/env.h"
#include "node/sync.h"
#include "sim/simulator.h"

namespace crema::sim {

struct PingLedger {
  static constexpr size_t kMaxViolations = 16;
  uint64_t adds_sent = 0;
  uint64_t gets_answered = 0;
  absl::btree_map<NodeId, uint64_t> acked_by_server;
  absl::btree_map<NodeId, uint64_t> indeterminate_by_server;
  int busy_clients = 0;
  uint64_t acked_during_partition = 0;      // coverage: acks while some link was cut
  const NetworkFabric* network = nullptr;   // for the above; may be null
  std::vector<std::string> violations;  // at most kMaxViolations

  uint64_t acked() const;
  uint64_t indeterminate() const;
  void Violation(std::string what);
};

class PingClient final : public NodeProgram {
 public:
  static constexpr size_t kMaxQueuedReplies = 64;

  // `ledger` and `stop` must outlive the client.
  PingClient(Env env, std::vector<NodeId> servers, PingLedger* ledger, absl::Duration timeout,
             const bool* stop);

 private:
  void Run();
  // Waits for the reply to `request_id`; false on timeout (or cancellation).
  bool AwaitReply(uint64_t request_id, NodeId server, bool is_add);

  Env env_;
  std::vector<NodeId> servers_;
  PingLedger* ledger_;
  absl::Duration timeout_;
  const bool* stop_;
  Channel<std::string> replies_;
};

}  // namespace crema::sim

#endif  // CREMA_SIM_PING_CLIENT_H_
