// Helpers for the determinism tests: run a //tools:sim binary from the runfiles and keep the lines
// that must agree between two runs of one seed (hash checkpoints and the summary line).
#ifndef CREMA_TOOLS_DETERMINISM_RUNS_H_
#define CREMA_TOOLS_DETERMINISM_RUNS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/time/time.h"

namespace crema::determinism {

// Runs the binary at `runfile` (e.g. "tools/sim") with `args` plus --quiet; its stdout lines.
std::vector<std::string> RunSim(const std::string& runfile, std::vector<std::string> args);
// Writes a ping schedule that sets only the safety phase's length (everything else is drawn from
// the seed, as ever) and returns its path: a run of `safety` virtual time (~500 events/s).
std::string LongPingSchedule(uint64_t seed, absl::Duration safety);
// The "checkpoint events=... hash=..." lines and the summary line ("seed=... result=...").
std::vector<std::string> HashLines(const std::vector<std::string>& lines);
// The event count of the last checkpoint line (0 if none).
uint64_t LastCheckpointEvents(const std::vector<std::string>& hash_lines);

}  // namespace crema::determinism

#endif  // CREMA_TOOLS_DETERMINISM_RUNS_H_
