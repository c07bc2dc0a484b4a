// FaultAction: one nemesis action of the FaultScheduler (sim/fault_scheduler.h) as data, and its
// JSON form in a schedule's action list (sim/schedule.h).
//
// The scheduler records every action it performs; a recorded list replays the same faults at the
// same virtual times (on the same seed the run is the same run), and any subset of it, with any
// windows shortened, is still a valid list — what a shrinker needs. JSON, one object per action:
//   {"kind": "crash"|"amnesia"|"pause"|"partition"|"clog"|"swizzle"|"clock-step"|"disk-full"|"idle",
//    "at_ns": <since the scheduler started>, "end_ns": <when it is undone>,
//    "node": <id>, "peer": <id, clog: the link node -> peer>,
//    "shape": "<partition shape>", "blocked": [[from, to], ...],          // partition
//    "delta_ns": <wall clock step, +/->,                                  // clock-step
//    "steps": [[offset_ns, node, 1 = clog | 0 = unclog], ...]}            // swizzle
// Undo at end_ns: crash/amnesia -> restart, pause -> resume, partition -> heal, clog -> unclog,
// disk-full -> capacity restored; a clock step has no undo (end_ns == at_ns). "idle" is a tick that
// found nothing to do (a crash with every target down, a second partition): it does nothing, but
// keeps a replayed list event-for-event identical to the recording. A swizzle's steps
// clog or unclog every link of one node at `at_ns + offset` — scaled down proportionally when
// end_ns was moved earlier than the last step.
//
// Thread safety: plain values and pure functions.
#ifndef CREMA_SIM_FAULT_PLAN_H_
#define CREMA_SIM_FAULT_PLAN_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"
#include "node/network.h"
#include "sim/network_fabric.h"

namespace crema::sim {

struct FaultAction {
  enum class Kind : uint8_t {
    kCrash, kAmnesia, kPause, kPartition, kClog, kSwizzle, kClockStep, kDiskFull,
    kIdle,  // a tick that drew nothing applicable: kept so a replay is event-for-event the same
  };
  struct SwizzleStep {
    absl::Duration offset;  // since `at`
    NodeId node = kNoNode;
    bool clog = true;
  };

  Kind kind = Kind::kCrash;
  absl::Duration at;   // since the scheduler started
  absl::Duration end;  // the undo, since the scheduler started; >= at
  NodeId node = kNoNode;
  NodeId peer = kNoNode;
  std::string shape;
  std::vector<Link> blocked;
  absl::Duration delta;
  std::vector<SwizzleStep> steps;
};

const char* FaultKindName(FaultAction::Kind kind);
std::optional<FaultAction::Kind> ParseFaultKind(std::string_view name);

nlohmann::json FaultActionsToJson(const std::vector<FaultAction>& actions);
// INVALID_ARGUMENT for an entry that is not a valid action (unknown kind, missing fields).
absl::StatusOr<std::vector<FaultAction>> FaultActionsFromJson(const nlohmann::json& list);

}  // namespace crema::sim

#endif  // CREMA_SIM_FAULT_PLAN_H_
