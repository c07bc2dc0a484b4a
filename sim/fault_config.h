// FaultConfig: which faults a simulation run injects and how often — randomised per seed.
//
// Swarm testing (Groce et al., "Swarm Testing", ISSTA 2012): rather than every fault at a fixed
// rate in every run, each seed switches a random subset of fault kinds on, at random rates, so that
// some runs stress one mechanism hard and others explore combinations. `MakeFaultConfig(level,
// random)` draws that configuration from its own Random stream ("swarm"):
//   kNone    — no faults at all (a perfect network and disk; still random latency).
//   kDefault — each fault kind on with probability ~1/2, at moderate rates.
//   kHeavy   — every fault kind on, at high rates.
// `FaultOverrides` (from command-line flags) then force individual switches or rates.
// All probabilities are integer `Ratio`s.
//
// Thread safety: plain value types and pure functions.
#ifndef CREMA_SIM_FAULT_CONFIG_H_
#define CREMA_SIM_FAULT_CONFIG_H_

#include <optional>
#include <string>
#include <string_view>

#include "absl/time/time.h"
#include "node/random.h"
#include "sim/network_fabric.h"
#include "sim/ratio.h"
#include "sim/sim_disk.h"
#include "sim/simulator.h"

namespace crema::sim {

enum class FaultLevel : uint8_t { kNone, kDefault, kHeavy };
std::optional<FaultLevel> ParseFaultLevel(std::string_view text);  // "none", "default", "heavy"

struct FaultConfig {
  // Per-message, per-disk-call and per-node-clock faults (go into SimOptions).
  NetworkConfig network;
  DiskFaultConfig disk;
  ClockFaultConfig clock;
  bool buggify = false;
  // Nemesis actions (FaultScheduler).
  bool crashes = false;
  bool amnesia = false;
  bool pauses = false;
  bool partitions = false;
  bool clogging = false;
  bool swizzle = false;
  bool clock_steps = false;
  bool disk_full = false;
  absl::Duration mean_fault_interval = absl::Seconds(1);  // between nemesis actions
  absl::Duration max_fault_duration = absl::Seconds(3);   // of a partition, pause, clog, downtime
  absl::Duration max_clock_step = absl::Seconds(5);

  bool any_nemesis() const {
    return crashes || amnesia || pauses || partitions || clogging || swizzle || clock_steps ||
           disk_full;
  }
  // Copies the per-message/disk/clock parts into `options`.
  void ApplyTo(SimOptions& options) const;
  // One line, e.g. "net=uniform[...] drop=1/100 dup=0/1 crashes pauses partitions ...".
  std::string Describe() const;
};

struct FaultOverrides {
  std::optional<bool> crashes, amnesia, pauses, partitions, clogging, swizzle, clock_faults,
      disk_faults, buggify;
  std::optional<Ratio> drop, duplicate;
};

FaultConfig MakeFaultConfig(FaultLevel level, Random random);
void ApplyOverrides(const FaultOverrides& overrides, FaultConfig& config);

}  // namespace crema::sim

#endif  // CREMA_SIM_FAULT_CONFIG_H_
