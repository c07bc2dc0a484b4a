// InputFaultConfig: the per-message, per-disk-call and per-clock parts of a FaultConfig as
// schedule params (sim/schedule.h), so a schedule file replays them and a shrinker can turn them
// down. One call, after the config was drawn (MakeFaultConfig) and overridden (flags):
//   FaultConfig faults = MakeFaultConfig(options.faults, root.Fork("swarm"));
//   ApplyOverrides(options.overrides, faults);
//   InputFaultConfig(in, faults);      // replaying: the schedule's values win
// Names start with "faults.": latency model (kind, min/max/mean, tail rate, tail max), drop and
// duplicate rates, disk crash semantics (lost/torn writes, vanishing files), read corruption, I/O
// errors, disk latency, clock offset and drift bounds, and the BUGGIFY switch. Every fault rate
// shrinks towards 0 (never), bounds towards 0; latency parameters other than the tail are kept.
// The nemesis switches (crashes, partitions, ...) are NOT params: a scenario records the nemesis'
// actions themselves as a list, which is what replay uses.
#ifndef CREMA_SIM_FAULT_INPUTS_H_
#define CREMA_SIM_FAULT_INPUTS_H_

#include "sim/fault_config.h"
#include "sim/schedule.h"

namespace crema::sim {

void InputFaultConfig(RunInputs& in, FaultConfig& config);

}  // namespace crema::sim

#endif  // CREMA_SIM_FAULT_INPUTS_H_
