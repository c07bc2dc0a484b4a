// DynamoCluster: eventual-mode servers on the project simulator — the harness of the `dynamo`
// scenario, its tests and its benchmark.
//
// Every server i runs, on its own simulated Env: a SWIM MembershipNode (seeds 1..min(3, n)) behind
// a SwimMembershipSource, and an EventualNode using it. The simulator supplies every fault (sim/):
// loss, duplication, reordering, partitions, clogging, crashes with lost/torn unsynced writes,
// pauses, disk errors and full disks, clock offset, drift and steps. Spare ids can be started
// later (joins). `Put`/`Get`/`Delete` run one call in a fiber on a chosen node and advance the
// simulation until it returns.
//
// `SimEventualConfig()` is the production config with periods scaled to simulated runs of tens
// of seconds (anti-entropy every 1 s, hint window 30 s, tombstone grace 10 min, ...).
//
// Thread safety: none (simulator thread).
#ifndef CREMA_SIM_SCENARIOS_DYNAMO_DYNAMO_CLUSTER_H_
#define CREMA_SIM_SCENARIOS_DYNAMO_DYNAMO_CLUSTER_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "node/discovery/swim_source.h"
#include "node/eventual/driver/eventual_node.h"
#include "node/membership/driver/membership_node.h"
#include "sim/simulator.h"

namespace crema::dynamo {

using eventual::ShardId;

eventual::EventualConfig SimEventualConfig();
membership::MembershipNodeConfig SimMembershipConfig();

struct DynamoClusterOptions {
  sim::SimOptions sim;
  int servers = 5;                  // ids 1..servers, started at once
  std::vector<NodeId> spares;       // registered, started later (joins)
  eventual::EventualConfig eventual = SimEventualConfig();
  membership::MembershipNodeConfig membership = SimMembershipConfig();
  eventual::EventualObserver* observer = nullptr;  // must outlive the cluster
};

class DynamoServer final : public sim::NodeProgram {
 public:
  DynamoServer(Env env, const DynamoClusterOptions& options);
  Env env;
  std::unique_ptr<discovery::SwimMembershipSource> source;  // declared first, destroyed last
  std::unique_ptr<eventual::EventualNode> node;
};

class DynamoCluster {
 public:
  explicit DynamoCluster(DynamoClusterOptions options);
  ~DynamoCluster();

  sim::Simulator& sim() { return *sim_; }
  const std::vector<NodeId>& servers() const { return servers_; }
  const std::vector<NodeId>& all_ids() const { return all_ids_; }
  DynamoServer* server(NodeId id);          // nullptr while down
  eventual::EventualNode* node(NodeId id);  // nullptr while down
  std::vector<NodeId> UpNodes() const;      // running and not paused

  // One call on node `at`, run to completion (or ABORTED if the node crashes first, DEADLINE if
  // `limit` of simulated time passes).
  absl::StatusOr<eventual::WriteResult> Put(NodeId at, const std::string& key, const std::string& value,
                                            eventual::WriteOptions options = {},
                                            absl::Duration limit = absl::Seconds(30));
  absl::StatusOr<eventual::WriteResult> Delete(NodeId at, const std::string& key,
                                               eventual::WriteOptions options = {},
                                               absl::Duration limit = absl::Seconds(30));
  absl::StatusOr<eventual::ReadResult> Get(NodeId at, const std::string& key,
                                           eventual::ReadOptions options = {},
                                           absl::Duration limit = absl::Seconds(30));

  // Runs until `done()` (checked every `poll`) or `limit`; returns done().
  bool RunUntil(const std::function<bool()>& done, absl::Duration limit,
                absl::Duration poll = absl::Milliseconds(50));
  // Every up server sees every up server as a live member it considers available (not suspected),
  // and has recovered.
  bool MembershipAgrees();
  // Every up server trusts every shard it owns.
  bool AllTrusted();
  // Replica convergence: every live, non-purgeable record held by any up server is held, in the
  // same version, by every owner of its shard (ring of up servers); no server holds data for a
  // shard it does not own. `why` names the first difference.
  bool Converged(std::string* why = nullptr);

  const DynamoClusterOptions& options() const { return options_; }

  // Runs `body` in a fiber on node `at` (with that node's Env) to completion; false if the node
  // is down, crashes first, or `limit` passes.
  bool RunFiber(NodeId at, std::function<void(eventual::EventualNode&, const Env&)> body,
                absl::Duration limit = absl::Seconds(30));

 private:
  template <typename Result>
  absl::StatusOr<Result> RunCall(NodeId at, std::function<absl::StatusOr<Result>(eventual::EventualNode&)> call,
                                 absl::Duration limit);

  DynamoClusterOptions options_;
  std::vector<NodeId> servers_;
  std::vector<NodeId> all_ids_;
  std::unique_ptr<sim::Simulator> sim_;
};

}  // namespace crema::dynamo

#endif  // CREMA_SIM_SCENARIOS_DYNAMO_DYNAMO_CLUSTER_H_
