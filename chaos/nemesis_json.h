// A NemesisSchedule (chaos/nemesis.h) as a schedule-file action list (sim/schedule.h), and back.
//
// Each fault and its undo become ONE entry with a window, so a shrinker that drops an entry drops
// both, and one that shortens the window moves the undo earlier:
//   {"kind": "crash", "node": 2, "at_ns": 1200000000, "end_ns": 1900000000}        crash .. restart
//   {"kind": "partition", "shape": "bridge", "blocked": [[1, 2], [2, 1]], "at_ns": .., "end_ns": ..}
//   {"kind": "clog", "node": 1, "peer": 3, "at_ns": .., "end_ns": ..}                clog .. unclog
//   {"kind": "pause" | "disk-full" | "disk-errors", "node": n, "at_ns": .., "end_ns": ..}
//   {"kind": "clock-step", "node": 1, "delta_ns": -250000000, "at_ns": ..}           no undo
//   {"kind": "remove-voter" | "add-learner" | "promote", "node": n, "at_ns": ..}     no undo
// Kinds are NemesisKindName's. An undo whose fault is missing (not produced by GenerateNemesis)
// stays an entry of its own.
//
// Thread safety: pure functions.
#ifndef CREMA_CHAOS_NEMESIS_JSON_H_
#define CREMA_CHAOS_NEMESIS_JSON_H_

#include "absl/status/statusor.h"
#include "chaos/nemesis.h"
#include "nlohmann/json.hpp"

namespace crema::chaos {

nlohmann::json NemesisToJson(const NemesisSchedule& schedule);
// INVALID_ARGUMENT naming the entry for an unknown kind or missing fields. The result is sorted
// by `at` (stable).
absl::StatusOr<NemesisSchedule> NemesisFromJson(const nlohmann::json& list);

}  // namespace crema::chaos

#endif  // CREMA_CHAOS_NEMESIS_JSON_H_
