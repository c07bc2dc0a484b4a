// RealSchedule: what a real-process chaos run was made of, as a schedule file the simulator can
// replay (`//tools:sim --scenario=cache --schedule=FILE`) and the harness can run again
// (`tools/chaos.sh --schedule=FILE`).
//
// The file is the simulator's schedule format (sim/schedule.h, "crema-schedule/1"):
//   {"format": "crema-schedule/1", "scenario": "cache", "seed": 42,
//    "params": {"nodes": {"value": 5, "simplest": 5},
//               "safety_duration_ns": {"value": 60000000000, "simplest": 60000000000},
//               "max_clock_skew_ns": {...}, "shards": {...}, "clients": {...}},
//    "lists": {"nemesis": [ ...chaos/nemesis_json.h entries... ],
//              "real.membership": [{"kind": "wipe-readmit", "node": 3, "new_id": 6,
//                                   "at_ns": 20000000000}, ...],
//              "real.net": [{"kind": "loss", "node": 2, "percent": 10, "at_ns": ..,
//                            "end_ns": ..},
//                           {"kind": "delay", "node": 4, "delay_ms": 40, "jitter_ms": 30,
//                            "at_ns": .., "end_ns": ..}, ...]}}
// The "nemesis" list is what both worlds apply; the "real." lists are faults only real processes
// get (membership through the admin API with a wiped node re-admitted under a new id; random
// packet loss into a node; delay with jitter — hence reordering — of a node's peer traffic). The simulator ignores them (sim/scenarios/cache, docs/chaos.md).
//
// Thread safety: plain values and pure functions.
#ifndef CREMA_CHAOS_REAL_REAL_SCHEDULE_H_
#define CREMA_CHAOS_REAL_REAL_SCHEDULE_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "chaos/nemesis.h"
#include "node/random.h"

namespace crema::chaos {

struct RealMembershipAction {
  absl::Duration at;
  std::string kind;          // "wipe-readmit" (drain, remove, wipe, rejoin as new_id, admit)
                             // | "graceful-restart" (SIGTERM, start again on the same data)
  NodeId node = kNoNode;
  NodeId new_id = kNoNode;   // wipe-readmit only
  friend bool operator==(const RealMembershipAction&, const RealMembershipAction&) = default;
};

// A window of network trouble at one node.
struct RealNetFault {
  absl::Duration at;
  absl::Duration end;
  std::string kind;          // "loss": packets INTO the node dropped at random (`percent`)
                             // "delay": the node's outgoing peer packets held delay_ms +- jitter_ms
  NodeId node = kNoNode;
  int percent = 0;           // loss: 1..100
  int delay_ms = 0;          // delay: 1..10000
  int jitter_ms = 0;         // delay: 0..delay_ms
  friend bool operator==(const RealNetFault&, const RealNetFault&) = default;
};

struct RealSchedule {
  uint64_t seed = 0;
  int nodes = 5;
  int shards = 8;
  int clients = 8;
  absl::Duration duration = absl::Seconds(60);  // the fault phase
  absl::Duration max_clock_skew = absl::Milliseconds(500);
  // Bound on each node's wall-clock offset when clock steps are applied (param
  // "real.max_clock_offset_ns"; zero: max_clock_skew / 4, inside the skew bound). Beyond
  // max_clock_skew / 2 two nodes can differ by more than the skew bound (docs/chaos.md).
  absl::Duration max_clock_offset = absl::ZeroDuration();
  NemesisSchedule nemesis;
  std::vector<RealMembershipAction> membership;
  std::vector<RealNetFault> net;
};

// What GenerateRealSchedule draws from.
struct RealScheduleOptions {
  int nodes = 5;
  int shards = 8;
  int clients = 8;
  absl::Duration duration = absl::Seconds(60);
  absl::Duration max_clock_skew = absl::Milliseconds(500);
  absl::Duration mean_interval = absl::Seconds(3);       // between fault starts
  absl::Duration max_fault_duration = absl::Seconds(6);
  // Largest single clock step (default: max_clock_skew / 4). Larger values, with a larger
  // offset bound in the harness, push clocks beyond the skew bound (docs/chaos.md, "Clocks").
  absl::Duration max_clock_step = absl::ZeroDuration();
  bool all_kinds = false;   // every supported kind on (else each on with probability 3/4)
  bool only_partitions = false;
  bool only_clocks = false;  // only clock steps (with max_clock_step/max_clock_offset: beyond the bound)
  absl::Duration max_clock_offset = absl::ZeroDuration();  // copied into the schedule
  bool membership = true;   // one wipe-readmit and one graceful restart
  bool net = true;          // windows of random packet loss and of delay with jitter
};

// A schedule from `seed`: the nemesis (GenerateNemesis over nodes 1..N; partitions, clogging,
// crashes, pauses, clock steps of at most max_clock_skew/4, disk full), membership actions and
// loss windows. Clock steps are not clamped here: the planner keeps offsets within its bound.
RealSchedule GenerateRealSchedule(const RealScheduleOptions& options, uint64_t seed);

// Pretty JSON, one list entry per line.
std::string RealScheduleToJson(const RealSchedule& schedule);
// INVALID_ARGUMENT naming the problem (wrong format, missing params, a bad list entry).
absl::StatusOr<RealSchedule> RealScheduleFromJson(std::string_view json);

// Bounds on what a file may hold (it is input).
inline constexpr size_t kMaxRealScheduleBytes = 64 << 20;
inline constexpr int kMaxRealNodes = 32;

}  // namespace crema::chaos

#endif  // CREMA_CHAOS_REAL_REAL_SCHEDULE_H_
