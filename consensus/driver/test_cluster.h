// Test harness for the driver: a simulated cluster of nodes, each running a RaftHost with some
// Raft groups over a small key-value state machine, plus client fibers and checkers.
//
// Example:
//   TestCluster c(seed, ClusterSpec{.nodes = {1, 2, 3}, .groups = {{1, {1, 2, 3}}}});
//   c.StartWriters(1);                     // a writer fiber per node proposes to group 1
//   c.sim().RunFor(absl::Seconds(5));
//   c.CheckAckedWrites(1);                 // every acknowledged write is on every live replica
//
// Acknowledged writes are recorded outside the nodes (they survive crashes). Keys are unique per
// write, so "applied everywhere with the acknowledged value" is the durability oracle.
//
// Thread safety: none (simulator thread).
#ifndef CREMA_CONSENSUS_DRIVER_TEST_CLUSTER_H_
#define CREMA_CONSENSUS_DRIVER_TEST_CLUSTER_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "consensus/driver/raft_host.h"
#include "sim/simulator.h"

namespace crema::raft::testing {

// Commands are "key=value"; the result is the previous value of the key.
class KvMachine final : public StateMachine {
 public:
  void Apply(Index index, std::string_view command) override { (void)ApplyWithResult(index, command); }
  std::string ApplyWithResult(Index index, std::string_view command) override;
  std::string Checkpoint() override;
  absl::Status Restore(std::string_view checkpoint) override;

  std::map<std::string, std::string> data;
  Index last_applied = 0;
  uint64_t restores = 0;
};

struct GroupSpec {
  GroupId id = 0;
  std::vector<ReplicaId> voters;  // founding voters; other nodes listed in `members` join empty
  std::vector<NodeId> members;    // nodes hosting it (empty = the voters)
};

struct ClusterSpec {
  std::vector<NodeId> nodes;
  std::vector<GroupSpec> groups;
  GroupOptions group_template;  // id/group/bootstrap are filled per node and group
  RaftHostOptions host;
  sim::NetworkConfig network;
};

struct AckedWrite {
  GroupId group;
  Index index;
  std::string key;
  std::string value;
};

class HostProgram final : public sim::NodeProgram {
 public:
  HostProgram(Env env, const ClusterSpec& spec);
  // Machines first: the host (and its groups) must be destroyed before them.
  std::map<GroupId, std::unique_ptr<KvMachine>> machines;
  std::shared_ptr<RaftHost> host;
  bool opened = false;  // every group was created
  absl::Status open_error;
  Env env;
};

class TestCluster {
 public:
  TestCluster(uint64_t seed, ClusterSpec spec, sim::SimOptions sim_options = {});

  sim::Simulator& sim() { return sim_; }
  uint64_t seed() const { return seed_; }
  // nullptr if the node is down or still opening.
  HostProgram* node(NodeId id);
  GroupDriver* group(NodeId id, GroupId group);
  KvMachine* machine(NodeId id, GroupId group);
  // The live, non-stopped leader of `group` with the highest term (kNoNode if none).
  NodeId Leader(GroupId group);
  // Runs until every live member of `group` has a leader and applied its commit index.
  bool WaitForLeader(GroupId group, absl::Duration limit);
  bool WaitCaughtUp(GroupId group, const std::vector<NodeId>& nodes, absl::Duration limit);

  // A fiber per node (re-spawned at every restart) that proposes a unique key to `group` every
  // `interval` while this node leads it and `writing_` is on.
  void StartWriters(GroupId group, absl::Duration interval = absl::Milliseconds(20),
                    size_t value_bytes = 16);
  void StopWriters() { writing_ = false; }
  const std::vector<AckedWrite>& acked() const { return acked_; }
  size_t acked_count(GroupId group) const;

  // Every acknowledged write of `group` is applied with its value on each live node in `nodes`
  // (all live members if empty). Adds gtest failures with the repro command.
  void CheckAckedWrites(GroupId group, std::vector<NodeId> nodes = {});
  // All live members of `group` in `nodes` have identical state machines.
  void CheckConverged(GroupId group, const std::vector<NodeId>& nodes);

  // Runs `body` in a fresh fiber on node `id` (which must be up).
  void Spawn(NodeId id, std::function<void(HostProgram&)> body);

 private:
  void SpawnWriter(NodeId id, GroupId group, absl::Duration interval, size_t value_bytes);

  uint64_t seed_;
  ClusterSpec spec_;
  std::vector<AckedWrite> acked_;  // outlives every incarnation
  bool writing_ = false;
  struct Writer {
    GroupId group;
    absl::Duration interval;
    size_t value_bytes;
  };
  std::vector<Writer> writers_;
  sim::Simulator sim_;
};

}  // namespace crema::raft::testing

#endif  // CREMA_CONSENSUS_DRIVER_TEST_CLUSTER_H_
