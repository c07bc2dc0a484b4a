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
// Record and replay (sim/fault_plan.h): every action performed is kept, as data, in `performed()`.
// `Replay(actions)` instead of `Start()` performs a given list at its recorded times (the same
// event kinds, in the same order), skipping an action whose precondition does not hold when it
// comes due (crash or pause of a node that is not up, a second partition, a second disk-full on
// one node, a node that is not a target). A recorded list replayed on the same seed is the same
// run; any subset of it, with windows shortened, is a valid smaller nemesis — what a schedule file
// (sim/schedule.h) stores and a shrinker reduces.
//
// All draws come from the scheduler's own Random ("faults"). Thread safety: none.
#ifndef CREMA_SIM_FAULT_SCHEDULER_H_
#define CREMA_SIM_FAULT_SCHEDULER_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/btree_map.h"
#include "node/random.h"
#include "sim/fault_config.h"
#include "sim/fault_plan.h"
#include "sim/simulator.h"

namespace crema::sim {

struct FaultStats {
  uint64_t crashes = 0, amnesias = 0, pauses = 0, partitions = 0, clogs = 0, swizzles = 0,
           clock_steps = 0, disk_fulls = 0, skipped = 0;
};

class FaultScheduler {
 public:
  // A bound on recorded actions (beyond it actions still happen but are no longer recorded).
  static constexpr size_t kMaxRecordedActions = 100'000;

  // `sim` must outlive the scheduler; `targets` are the nodes it may fault.
  FaultScheduler(Simulator* sim, FaultConfig config, std::vector<NodeId> targets, Random random);

  void Start();
  // Performs `actions` (sorted by `at`) instead of drawing; see the file comment.
  void Replay(std::vector<FaultAction> actions);
  void Stop() {
    RecordPendingTick();
    running_ = false;
  }
  void HealAll();

  const FaultStats& stats() const { return stats_; }
  // Actions performed so far (Start) or replayed (Replay), in order.
  const std::vector<FaultAction>& performed() const { return performed_; }

 private:
  std::vector<FaultAction::Kind> EnabledActions() const;
  void ScheduleNext();
  void ScheduleReplay(size_t index);
  // Draws one action (consuming the same draws whatever the outcome); nullopt: nothing to do.
  std::optional<FaultAction> Draw();
  // Performs `a` now and schedules its undo at a.end; false if its precondition does not hold.
  bool Apply(const FaultAction& a);
  // Runs `undo` at `end` (since start), unless HealAll happened meanwhile.
  void Later(absl::Duration end, const char* kind, absl::AnyInvocable<void()> undo);
  absl::Duration FaultDuration();
  absl::Duration Since() const { return sim_->elapsed() - start_; }
  // A random target in `state`, or kNoNode.
  NodeId PickTarget(NodeState state);
  bool IsTarget(NodeId id) const;
  void SetNodeClogged(NodeId node, bool clogged);
  void DeclareCoverage() const;
  void RecordPendingTick();

  Simulator* sim_;
  FaultConfig config_;
  std::vector<NodeId> targets_;  // ascending
  Random random_;
  FaultStats stats_;
  bool running_ = false;
  absl::Duration start_;
  uint64_t epoch_ = 0;  // bumped by HealAll; undos of older epochs do nothing
  absl::btree_map<NodeId, uint64_t> normal_capacity_bytes_;  // disks currently "full"
  std::vector<FaultAction> performed_;
  std::vector<FaultAction> replay_;
  std::optional<absl::Duration> next_tick_;  // recording: the pending tick's time, if any
};

}  // namespace crema::sim

#endif  // CREMA_SIM_FAULT_SCHEDULER_H_
