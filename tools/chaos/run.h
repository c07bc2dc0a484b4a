// RunChaos: one real-process chaos run, start to finish (docs/chaos.md).
//
//   1. Sandbox (namespaces, bridge, tmpfs per node) and a 5-node crema_server cluster in it, each
//      server under libfaketime; every node must serve a linearizable write before faults start.
//   2. Fault phase (`schedule.duration`): the clients run; the nemesis actions (chaos/nemesis.h,
//      made real by chaos/real/real_plan.h), the membership plan (a node drained, removed, wiped
//      and re-admitted under a new id; a graceful restart) and packet-loss windows are applied at
//      their times.
//   3. Heal everything; recovery: every node serves a linearizable write again within
//      `recovery_bound` (the time taken is reported).
//   4. Clients stop; a final linearizable read of every key; convergence: every group's replicas
//      report the same applied index and digest (CREMA.DIGESTS) within `convergence_bound`.
//   5. Checks (chaos/real/real_check.h): linearizability under the cache model, local-read and
//      TTL oracles.
// Early returns (a failed start, an interruption) still remove everything: the run's objects
// (netdelay processes, servers, sandbox) are torn down by their destructors.
// Everything the run created is removed at the end, also on failure or interruption
// (`interrupted` is polled; every wait is bounded).
//
// Thread safety: one run at a time per process.
#ifndef CREMA_TOOLS_CHAOS_RUN_H_
#define CREMA_TOOLS_CHAOS_RUN_H_

#include <atomic>
#include <cstdint>
#include <map>
#include <ostream>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "chaos/real/real_schedule.h"

namespace crema::chaos_tool {

struct RunOptions {
  chaos::RealSchedule schedule;
  std::string server_bin;
  std::string netdelay_bin;        // tools/chaos:netdelay (delay windows)
  std::string timer_shim;          // tools/chaos:libtimerfd_passthrough.so (cluster.h)
  std::string workdir;             // removed at the end unless keep_workdir
  bool keep_workdir = false;
  std::string plant;               // crema_server --testonly_plant
  // Every node's wall-clock offset stays within +-this (zero: max_clock_skew / 4, so pairwise
  // skew stays at half the bound). Larger values test what happens beyond the bound.
  absl::Duration max_clock_offset = absl::ZeroDuration();
  std::string history_out;         // JSON lines, if set
  absl::Duration progress_every = absl::Seconds(10);
  absl::Duration start_bound = absl::Seconds(120);
  absl::Duration recovery_bound = absl::Seconds(90);
  absl::Duration convergence_bound = absl::Seconds(90);
  absl::Duration final_read_bound = absl::Seconds(60);
  const std::atomic<bool>* interrupted = nullptr;
  std::ostream* log = nullptr;     // progress and the report
};

struct RunReport {
  uint64_t operations = 0;          // in the checked history
  uint64_t faults_applied = 0;
  std::map<std::string, uint64_t> applied_by_kind;
  std::map<std::string, uint64_t> skipped_by_kind;
  uint64_t violations = 0;
  double recovery_seconds = -1;     // heal -> every node serves again
  double convergence_seconds = -1;  // heal -> every group's replicas identical
  std::vector<std::string> failures;  // why the run failed (violations described, liveness)
  bool passed() const { return failures.empty() && violations == 0; }
};

RunReport RunChaos(const RunOptions& options);

// Per-slot wall-clock rates (ppm) drawn from the schedule's seed: within +-100 ppm, so a node's
// drift over a 10-minute process lifetime stays under 60 ms.
std::vector<int> ClockRatesPpm(uint64_t seed, int nodes);

}  // namespace crema::chaos_tool

#endif  // CREMA_TOOLS_CHAOS_RUN_H_
