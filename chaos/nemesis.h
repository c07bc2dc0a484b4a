// Nemesis schedules as data: a fault schedule is a list of timed actions, generated from a seed,
// printable (a failing run shows exactly what was done to it), and applied to a simulation by
// NemesisRunner (nemesis_runner.h).
//
//   NemesisOptions options = SwarmNemesisOptions(random.Fork("swarm"));   // which kinds are on
//   NemesisSchedule schedule = GenerateNemesis(options, servers, spares, absl::Seconds(10),
//                                              random.Fork("nemesis"));
//   std::cout << schedule.ToString();
//
// Actions (each at `at`, virtual time since the runner started):
//   partition (shape symmetric | asymmetric | majority | bridge | isolate, as blocked directed
//   links; at most one at a time) / heal; clog / unclog one directed link; crash / restart;
//   crash-at-send / restart (the crash is armed, and fires right after the node's next message
//   sent while its disk holds unsynced writes — the window between a send and the Sync that
//   should have preceded it, where persist-before-send bugs live; a real process is simply
//   killed);
//   pause / resume; clock step (wall clock jumps by `delta`, +/-); disk full / disk space back;
//   disk errors (I/O errors and read bit flips on one node's disk) / disk healthy; membership:
//   remove voter, add learner, promote learner (only with `membership`; the scenario applies them
//   through Raft and may legitimately be refused).
// Every fault is followed by its undo after a random duration <= max_fault_duration, so the
// schedule never leaves a node down forever; the runner's HealAll ends whatever is left.
//
// Amnesia (disk wiped) is deliberately NOT generated for Raft voters: a voter that forgets its
// term, vote and log can vote twice in one term and un-acknowledge entries a majority relied on,
// which breaks Raft's safety by assumption, not by bug. Modelled correctly it is "remove the
// member, wipe it, add it back as a new member (learner, then promote)", which the membership
// actions express once the cluster supports membership changes; see docs/raft-kv.md.
//
// Generation draws only from the given Random; the same inputs give the same schedule.
// Thread safety: plain values and pure functions.
#ifndef CREMA_CHAOS_NEMESIS_H_
#define CREMA_CHAOS_NEMESIS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "node/network.h"
#include "node/random.h"
#include "sim/fault_config.h"
#include "sim/network_fabric.h"
#include "sim/ratio.h"

namespace crema::chaos {

enum class NemesisKind : uint8_t {
  kPartition, kHeal, kClog, kUnclog, kCrash, kRestart, kPause, kResume, kClockStep,
  kDiskFull, kDiskSpace, kDiskErrors, kDiskHealthy, kRemoveVoter, kAddLearner, kPromote,
  kCrashAtSend,  // last: kinds keep their values
};
const char* NemesisKindName(NemesisKind kind);

struct NemesisAction {
  absl::Duration at;
  NemesisKind kind = NemesisKind::kHeal;
  NodeId node = kNoNode;               // crash/restart/pause/resume/clock/disk/membership
  NodeId peer = kNoNode;               // clog/unclog: the link node -> peer
  std::string shape;                   // partition
  std::vector<sim::Link> blocked;      // partition: directed links cut
  absl::Duration delta;                // clock step
  std::string ToString() const;        // one line, e.g. "1.25s crash n2"
};

struct NemesisSchedule {
  std::vector<NemesisAction> actions;  // sorted by `at` (stable)
  std::string ToString() const;        // one action per line
  size_t Count(NemesisKind kind) const;
};

struct NemesisOptions {
  bool partitions = false;
  bool clogging = false;
  bool crashes = false;
  bool pauses = false;
  bool clock_steps = false;
  bool disk_full = false;
  bool disk_errors = false;
  bool membership = false;
  // Half the partitions cut off the current leader's minority (kLeaderPartitionShape), decided
  // when applied: leader churn right after the leader replicated to a minority.
  bool leader_partitions = false;
  // Half the crashes are crash-at-send (decided from the generator's "crash-at-send" stream, so
  // a schedule without them draws exactly as before).
  bool crash_at_send = false;
  absl::Duration mean_interval = absl::Seconds(1);      // between fault starts
  absl::Duration max_fault_duration = absl::Seconds(3);
  absl::Duration max_clock_step = absl::Seconds(5);
  sim::Ratio disk_io_error{1, 50};        // while a disk is "erroring"
  sim::Ratio disk_read_corruption{1, 200};
  // A bound on actions generated (kMaxNemesisActions caps it further).
  size_t max_actions = 1000;

  bool any() const {
    return partitions || clogging || crashes || pauses || clock_steps || disk_full ||
           disk_errors || membership;
  }
  std::string Describe() const;  // e.g. "partitions crashes pauses every~800ms max=2s"
};

inline constexpr size_t kMaxNemesisActions = 100'000;

// A partition action with this shape and no links names its side only when applied: the node
// leading at that moment (NemesisRunner's leader hook) plus the first (n - 1) / 2 - 1 other
// servers (a minority: the leader alone among 3, with one follower among 5) are cut off from the
// rest. Without a hook, or with no leader, the action is skipped.
inline constexpr char kLeaderPartitionShape[] = "leader-minority";
// The same cut, applied just after the leader's next check-quorum boundary (NemesisRunner's
// check hook), so the deposed leader keeps leading for nearly two election timeouts while a
// follower may be elected after one: the widest overlap a too-long lease or a stale read can use.
inline constexpr char kLeaderPartitionAfterCheckShape[] = "leader-minority-after-check";
// Right after a racing replacement (remove voter `node`, promote learner `peer` at one moment): a
// cut between a majority of the old voters holding `node` and a majority of the new ones holding
// `peer`, so each side could elect under the configuration it believes in. The links are fixed in
// the schedule; when applied, if the leader is on `node`'s side (and is not `node`), it trades
// places with the smallest other node of `peer`'s side: the leader that just committed the
// changes keeps a quorum of the new configuration. A leader that accepts a second configuration
// change before the first is applied lets both sides commit (issue 11's mutant).
inline constexpr char kConfigSplitShape[] = "config-split";

// The nemesis that follows a simulation's swarm switches (sim::FaultConfig, command-line overrides
// included), so `--no_partitions` and the like mean the same in every scenario. Disk I/O errors
// and read corruption become nemesis windows instead of whole-run rates: they are moved out of
// `faults`, because a scenario's liveness phase needs healthy disks. Scenarios then narrow what
// they must (e.g. no amnesia for voters, clock steps within their skew bound).
NemesisOptions NemesisFromFaults(sim::FaultConfig& faults);

// The swarm's crash-at-send switch for a seed whose nemesis has crashes: on in half of them,
// drawn from `root`'s own "crash-at-send" stream, so no other draw of the seed changes.
bool DrawCrashAtSend(const Random& root);

// Swarm testing: each kind on with probability 1/2 (membership stays off: callers opt in), at a
// random pace. All-off draws are allowed (a fault-free run is a useful data point).
NemesisOptions SwarmNemesisOptions(Random random);

// A schedule over [0, duration) for `servers` (sorted; faults target only these). `spares` are
// node ids that membership actions may add (learner, then promote); removed voters become spares.
NemesisSchedule GenerateNemesis(const NemesisOptions& options, std::vector<NodeId> servers,
                                std::vector<NodeId> spares, absl::Duration duration,
                                Random random);

}  // namespace crema::chaos

#endif  // CREMA_CHAOS_NEMESIS_H_
