// DynamoClient: a simulated client of eventual-mode servers, and the ledger of what all clients
// did (the history the dynamo scenario's oracles check).
//
// Each client is its own simulated node. It loops: pick an operation (put 50%, get 40%,
// delete 10%) on one of `keys` keys, send it as a ClientRequest to a random server, wait for the
// ClientReply (up to `timeout`), record the outcome, pause a little. Put values are unique
// ("c<client>-<seq>"), so a read's value names the write it came from. A quarter of the puts carry
// a TTL far longer than the run (the TTL path is exercised; nothing expires mid-check).
//
// Outcomes: kOk; kFailed when the server said nothing was sent (UNAVAILABLE, FAILED_PRECONDITION,
// INVALID_ARGUMENT) — the write certainly did not happen; kUnknown otherwise (timeout, lost reply,
// or an error after sending: it may have happened).
//
// Thread safety: none (simulator thread). The ledger outlives the clients.
#ifndef CREMA_SIM_SCENARIOS_DYNAMO_DYNAMO_CLIENT_H_
#define CREMA_SIM_SCENARIOS_DYNAMO_DYNAMO_CLIENT_H_

#include <cstdint>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/time/time.h"
#include "node/env.h"
#include "node/eventual/core/messages.h"
#include "node/sync.h"
#include "sim/simulator.h"

namespace crema::dynamo {

enum class OpOutcome : uint8_t { kPending, kOk, kFailed, kUnknown };

struct DynamoOp {
  NodeId client = kNoNode;
  uint64_t seq = 0;
  NodeId server = kNoNode;  // the coordinator asked
  eventual::ClientOp op = eventual::ClientOp::kGet;
  std::string key;
  std::string value;        // put: the value written; get: the value read (if found)
  int64_t invoke_ns = 0;    // virtual time
  int64_t complete_ns = 0;
  OpOutcome outcome = OpOutcome::kPending;
  eventual::Version version;  // put/delete: the version written; get: the version returned
  bool found = false;         // get
  int64_t ttl_ms = 0;
  std::string error;
};

struct DynamoLedger {
  std::vector<DynamoOp> ops;
  bool stop = false;              // clients finish their current call and stop
  int busy_clients = 0;
  uint64_t acked_writes = 0;
  uint64_t acked_writes_since_mark = 0;  // reset by the scenario at the heal
  uint64_t ok_reads = 0;
};

struct DynamoClientOptions {
  std::vector<NodeId> servers;
  int keys = 12;
  eventual::Consistency read = eventual::Consistency::Quorum();
  eventual::Consistency write = eventual::Consistency::Quorum();
  absl::Duration timeout = absl::Milliseconds(1500);  // the coordinator answers within 1 s
  absl::Duration max_think = absl::Milliseconds(50);
};

class DynamoClient final : public sim::NodeProgram {
 public:
  // Starts the loop again after the ledger's `stop` ended it (the ledger's stop must be false).
  void Resume();

  // `sim` gives the global virtual time the history is recorded in.
  DynamoClient(Env env, sim::Simulator* sim, DynamoLedger* ledger, DynamoClientOptions options);

 private:
  void Loop();
  void RunOne(uint64_t seq);

  Env env_;
  sim::Simulator* sim_;
  DynamoLedger* ledger_;
  DynamoClientOptions options_;
  Random random_;
  Channel<eventual::ClientReply> replies_;
  uint64_t next_req_;
  // Each server's client-protocol session as last seen (eventual::ClientRequest::session).
  absl::btree_map<NodeId, uint64_t> sessions_;
  uint64_t next_seq_ = 1;
  bool running_ = false;
};

std::string KeyName(int index);

// The ledger as JSON lines (`--history_out` of //tools:sim), one operation per line in ledger
// order (invocation order), e.g.
//   {"client":101,"seq":3,"server":2,"op":"put","key":"key-5","value":"c101-3","ttl_ms":0,
//    "invoke_ns":100,"complete_ns":250,"outcome":"ok","version":"1767225582339385855.0@2",
//    "found":false,"error":""}                                  (on one line in a file)
// outcome: "pending" | "ok" | "failed" (certainly not applied) | "unknown" (may have applied).
// version: put/delete: the version written; get: the version returned ("0.0@0" when none).
// This is the dynamo scenario's own format (it carries versions and coordinators), not
// chaos/history_json.h's.
void WriteHistoryJson(const DynamoLedger& ledger, std::ostream& out);

}  // namespace crema::dynamo

#endif  // CREMA_SIM_SCENARIOS_DYNAMO_DYNAMO_CLIENT_H_
