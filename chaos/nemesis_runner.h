// NemesisRunner: applies a NemesisSchedule (nemesis.h) to a running simulation.
//
//   NemesisRunner runner(&sim, servers, options, membership_hook);
//   runner.Start(schedule);          // every action becomes a simulator event at start + at
//   sim.RunFor(...);
//   runner.HealAll();                // the liveness phase starts here
//
// Actions whose precondition does not hold when they come due are skipped and counted (e.g.
// restarting a node that is already up, pausing a node that is down). Disk faults change the
// node's SimDisk config (capacity, io_error, read_corruption) and are undone to the values the
// disk had before. Membership actions are handed to `membership` (the scenario proposes them
// through Raft); without a hook they are skipped.
//
// crash-at-send arms a crash of the node; it fires right after the node's next message sent while
// its disk holds unsynced changes (a simulator event at the same instant, before the Sync can
// complete). A correct node rarely sends so (it syncs first), so the crash stays armed until it
// fires or HealAll: the schedule's restart restarts the node if the crash has fired by then (as
// after a crash), and does nothing while it is still armed; a crash that fires later is followed
// by a restart after the downtime the schedule gave it (from the arming to that restart).
//
// HealAll cancels every pending action and heals at once: no partition, no clogged link, every
// server resumed and restarted, every disk back to its normal config.
//
// Thread safety: none (the simulator's thread). `sim` must outlive the runner.
#ifndef CREMA_CHAOS_NEMESIS_RUNNER_H_
#define CREMA_CHAOS_NEMESIS_RUNNER_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/btree_map.h"
#include "chaos/nemesis.h"
#include "sim/simulator.h"

namespace crema::chaos {

class NemesisRunner {
 public:
  using MembershipHook = std::function<void(const NemesisAction&)>;

  NemesisRunner(sim::Simulator* sim, std::vector<NodeId> servers, NemesisOptions options,
                MembershipHook membership = nullptr);
  ~NemesisRunner();
  NemesisRunner(const NemesisRunner&) = delete;
  NemesisRunner& operator=(const NemesisRunner&) = delete;

  // The node currently leading (kNoNode if none): resolves kLeaderPartitionShape actions.
  using LeaderHook = std::function<NodeId()>;
  void SetLeaderHook(LeaderHook hook) { leader_ = std::move(hook); }
  // How long until `leader`'s next check-quorum boundary (nullopt: unknown). With it,
  // kLeaderPartitionAfterCheckShape actions wait for that boundary (plus 1 ms) before cutting the
  // leader's minority off, unless a heal comes first; without it they cut at once.
  using CheckHook = std::function<std::optional<absl::Duration>(NodeId leader)>;
  void SetCheckHook(CheckHook hook) { check_ = std::move(hook); }

  void Start(const NemesisSchedule& schedule);
  void HealAll();

  uint64_t applied() const { return applied_; }
  uint64_t skipped() const { return skipped_; }

 private:
  // `downtime`: a crash-at-send's, from its arming to the node's next restart in the schedule.
  void Apply(const NemesisAction& action, absl::Duration downtime = absl::ZeroDuration());
  void SaveDisk(NodeId node);
  // The fabric's send observer: fires an armed crash-at-send (see the file comment).
  void OnSend(NodeId from);
  // A kConfigSplitShape cut as applied now: the leader moved to the promoted spare's side.
  std::vector<sim::Link> ConfigSplitCut(const NemesisAction& a) const;
  // The links cutting the current leader's minority off (empty: no leader known).
  std::vector<sim::Link> LeaderMinorityCut() const;

  struct DiskDefaults {
    uint64_t capacity_bytes;
    sim::Ratio io_error;
    sim::Ratio read_corruption;
  };

  sim::Simulator* sim_;
  std::vector<NodeId> servers_;
  NemesisOptions options_;
  MembershipHook membership_;
  LeaderHook leader_;
  CheckHook check_;
  uint64_t heals_ = 0;  // partitions healed so far: a deferred cut applies only if none came since
  uint64_t epoch_ = 0;
  uint64_t applied_ = 0;
  uint64_t skipped_ = 0;
  absl::btree_map<NodeId, DiskDefaults> disk_defaults_;  // disks currently faulted
  absl::btree_map<NodeId, absl::Duration> armed_;  // crash-at-send armed, not fired: its downtime
  bool observing_sends_ = false;
};

}  // namespace crema::chaos

#endif  // CREMA_CHAOS_NEMESIS_RUNNER_H_
