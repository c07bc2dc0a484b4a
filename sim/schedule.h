// Schedule and RunInputs: a simulation run's inputs as data — what a failing run is shrunk on,
// and what `//tools:sim --schedule=FILE` replays.
//
// A seed is a position in random streams: change the code that draws from them and the same seed
// is a different run. A Schedule is the run's inputs written out as values — swarm fault
// parameters, the nemesis' timed actions, the workload's shape (clients, keys, duration), node
// counts — so a failure reproduces from the file after unrelated code changes, and a shrinker
// (//tools:shrink, tools/shrinking/) can make it smaller by editing data, not by hunting for seeds.
// Everything a schedule does not name (message latencies, a client's choice of key) still derives
// from the seed through forked streams.
//
// The data, as JSON (one file, `ToJson`/`ParseSchedule`):
//   {"format": "crema-schedule/1", "scenario": "raft-kv", "seed": 42,
//    "params": {"nodes": {"value": 5, "simplest": 3}, "faults.drop.num": {"value": 1, "simplest": 0},
//               ...},
//    "lists": {"nemesis": [{"kind": "crash", "node": 2, "at_ns": 1200000000, "end_ns": 2500000000},
//                          ...]}}
//   * A param is an integer `value` plus the `simplest` value a shrinker may move it towards
//     (switches: 1 -> 0; counts: towards their minimum; fault rates: numerator -> 0). Durations
//     are nanoseconds and named `..._ns`. value == simplest means "nothing to shrink".
//   * A list holds timed actions as JSON objects, each with "kind" and "at_ns" (virtual time since
//     the list's runner started) and, for a fault that is undone later, "end_ns" (>= at_ns). The
//     shrinker removes entries and shortens windows (moves end_ns towards at_ns); the scenario
//     must accept any subset with any shorter windows (an action that no longer applies — a node
//     that does not exist, a restart of a node that is up — is skipped, not an error). Other
//     fields are the scenario's own. Entries of kind "idle" are placeholders that keep a replay
//     event-for-event identical to its recording (a nemesis tick that did nothing); they do not
//     count towards `Size`.
//
// The scenario side (how a scenario takes a schedule instead of drawing one; see also
// sim/scenario.h "Schedules"):
//   RunInputs in(options);                                 // replays options.schedule, if any
//   const int n = in.Int("nodes", /*drawn=*/3 + size.Uniform(3), /*simplest=*/3);
//   const bool leases = in.Flag("raft.leases", swarm.OneIn(3));
//   InputFaultConfig(in, faults);                          // sim/fault_inputs.h: every rate
//   nlohmann::json actions = in.List("nemesis", NemesisToJson(GenerateNemesis(...)));
//   ... run with n, leases, faults, NemesisFromJson(actions) ...
//   result.schedule = in.Take("raft-kv", options.seed);
// Always draw first and pass the drawn value (streams are forked per purpose, so skipping nothing
// keeps every other draw in place); when replaying, RunInputs returns the schedule's value instead
// (a param the file lacks — e.g. one added after it was written — keeps the drawn value).
//
// Thread safety: plain values.
#ifndef CREMA_SIM_SCHEDULE_H_
#define CREMA_SIM_SCHEDULE_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/container/btree_map.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"
#include "sim/ratio.h"

namespace crema::sim {

struct ScheduleParam {
  int64_t value = 0;
  int64_t simplest = 0;
  friend bool operator==(const ScheduleParam&, const ScheduleParam&) = default;
};

struct Schedule {
  static constexpr char kFormat[] = "crema-schedule/1";
  // Bounds on what a file may hold (it is input: checked by ParseSchedule).
  static constexpr size_t kMaxParams = 1024;
  static constexpr size_t kMaxListEntries = 100'000;
  static constexpr size_t kMaxFileBytes = 64 << 20;

  std::string scenario;
  uint64_t seed = 0;
  absl::btree_map<std::string, ScheduleParam, std::less<>> params;
  absl::btree_map<std::string, nlohmann::json, std::less<>> lists;  // each a JSON array

  // Params not at their simplest value plus list entries: the size a shrinker reduces.
  size_t Size() const;
  size_t ListEntries() const;  // not counting "idle" entries
  // Pretty JSON, one list entry per line.
  std::string ToJson() const;
  friend bool operator==(const Schedule&, const Schedule&) = default;
};

// INVALID_ARGUMENT naming the problem for anything malformed: wrong format tag, a param without
// integer value/simplest, a list that is not an array of objects with integer at_ns (and end_ns
// >= at_ns if present), sizes past the bounds.
absl::StatusOr<Schedule> ParseSchedule(std::string_view json);

class RunInputs {
 public:
  // Replays `replay` (not owned; may be null: then every input is the drawn value).
  explicit RunInputs(const Schedule* replay) : replay_(replay) {}

  bool replaying() const { return replay_ != nullptr; }

  int64_t Int(std::string_view name, int64_t drawn, int64_t simplest);
  bool Flag(std::string_view name, bool drawn) { return Int(name, drawn ? 1 : 0, 0) != 0; }
  // Nanoseconds, as "<name>_ns".
  absl::Duration Duration(std::string_view name, absl::Duration drawn, absl::Duration simplest);
  // "<name>.num" (simplest 0) and "<name>.den"; a replayed ratio with den 0 or num > den is
  // treated as never.
  Ratio Rate(std::string_view name, Ratio drawn);
  // A list of timed actions (see the file comment); `drawn` must be a JSON array.
  nlohmann::json List(std::string_view name, nlohmann::json drawn);
  // The replayed list `name`, or nullptr (not replaying, or the schedule has no such list). For
  // lists recorded while the run goes (e.g. FaultScheduler::performed): ask before the run, and
  // hand the recorded list to `List` after it.
  const nlohmann::json* Replayed(std::string_view name) const;

  // What this run used, as a schedule for `scenario` and `seed`.
  Schedule Take(std::string scenario, uint64_t seed);

 private:
  const Schedule* replay_;
  Schedule used_;
};

}  // namespace crema::sim

#endif  // CREMA_SIM_SCHEDULE_H_
