// FaultScheduler: the nemesis — injects process, network, clock and disk faults into a running
// simulation at random moments, according to a FaultConfig, and heals everything on demand.
//
// After `Start`, every uniform [0, 2 * mean_fault_interval] of virtual time it performs one action
// chosen uniformly among the enabled kinds, each on randomly chosen `targets` (server nodes; never
// clients), and schedules its undo after a random duration up to max_fault_duration:
//   crash (-> restart), amnesia (-> restart), pause (-> resume), partition of a random shape
//   (sim/partitions.h; -> heal), clog a random link (-> unclog), swizzle (clog a random subset of
//   nodes' links one node at a time in random order, then unclog them in another random order),
//   wall-clock step (+/- up to max_clock_step), disk full (capacity = current use; -> restored).
// `Stop` ends new actions; `HealAll` also cancels pending undos and heals immediately: no
// partition, no clog, every target resumed and restarted, disk capacity restored. That is the start
// of a scenario's liveness phase.
//
// All draws come from the scheduler's own Random ("faults"). Thread safety: none.
#ifndef CREMA_SIM_FAULT_SCHEDULER_H_
#define CREMA_SIM_FAULT_SCHEDULER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/btree_map.h"
#include "node/random.h"
#include "sim/fault_config.h"
#include "sim/simulator.h"

namespace crema::sim {

struct FaultStats {
  uint64_t crashes = 0, amnesias = 0, pauses = 0, partitions = 0, clogs = 0, swizzles = 0,
           clock_steps = 0, disk_fulls = 0;
};

class FaultScheduler {
 public:
  // `sim` must outlive the scheduler; `targets` are the nodes it may fault.
  FaultScheduler(Simulator* sim, FaultConfig config, std::vector<NodeId> targets, Random random);

  void Start();
  void Stop() { running_ = false; }
  void HealAll();

  const FaultStats& stats() const { return stats_; }

 private:
  enum class Action : uint8_t {
    kCrash, kAmnesia, kPause, kPartition, kClog, kSwizzle, kClockStep, kDiskFull
  };
  std::vector<Action> EnabledActions() const;
  void ScheduleNext();
  void Act();
  // Runs `undo` after a random fault duration, unless HealAll happened meanwhile.
  void Later(const char* kind, absl::AnyInvocable<void()> undo);
  absl::Duration FaultDuration();
  // A random target in `state`, or kNoNode.
  NodeId PickTarget(NodeState state);
  void CrashAction(bool amnesia);
  void SwizzleAction();
  void SetNodeClogged(NodeId node, bool clogged);

  Simulator* sim_;
  FaultConfig config_;
  std::vector<NodeId> targets_;  // ascending
  Random random_;
  FaultStats stats_;
  bool running_ = false;
  uint64_t epoch_ = 0;  // bumped by HealAll; undos of older epochs do nothing
  absl::btree_map<NodeId, uint64_t> normal_capacity_bytes_;  // disks currently "full"
};

}  // namespace crema::sim

#endif  // CREMA_SIM_FAULT_SCHEDULER_H_
