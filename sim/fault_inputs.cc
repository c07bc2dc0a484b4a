#include "sim/fault_inputs.h"

#include <algorithm>

namespace crema::sim {

void InputFaultConfig(RunInputs& in, FaultConfig& c) {
  LatencyModel& l = c.network.latency;
  const int64_t kind = in.Int("faults.latency.kind", static_cast<int64_t>(l.kind), 0);
  l.kind = static_cast<LatencyModel::Kind>(std::clamp<int64_t>(kind, 0, 2));
  l.min = in.Duration("faults.latency.min", l.min, l.min);
  l.max = std::max(l.min, in.Duration("faults.latency.max", l.max, l.max));
  l.mean = in.Duration("faults.latency.mean", l.mean, l.mean);
  l.tail = in.Rate("faults.latency.tail", l.tail);
  l.tail_max = in.Duration("faults.latency.tail_max", l.tail_max, l.tail_max);
  c.network.drop = in.Rate("faults.drop", c.network.drop);
  c.network.duplicate = in.Rate("faults.duplicate", c.network.duplicate);
  DiskFaultConfig& d = c.disk;
  d.unsynced_write_lost = in.Rate("faults.disk.lost", d.unsynced_write_lost);
  d.unsynced_write_torn = in.Rate("faults.disk.torn", d.unsynced_write_torn);
  d.unsynced_file_vanishes = in.Rate("faults.disk.vanishes", d.unsynced_file_vanishes);
  d.read_corruption = in.Rate("faults.disk.corrupt_read", d.read_corruption);
  d.io_error = in.Rate("faults.disk.io_error", d.io_error);
  d.latency_min = in.Duration("faults.disk.latency_min", d.latency_min, absl::ZeroDuration());
  d.latency_max = std::max(d.latency_min, in.Duration("faults.disk.latency_max", d.latency_max,
                                                      absl::ZeroDuration()));
  c.clock.max_offset = in.Duration("faults.clock.max_offset", c.clock.max_offset,
                                   absl::ZeroDuration());
  c.clock.max_drift_ppm = std::clamp<int64_t>(
      in.Int("faults.clock.max_drift_ppm", c.clock.max_drift_ppm, 0), 0, SimClock::kMaxDriftPpm);
  c.buggify = in.Flag("faults.buggify", c.buggify);
}

}  // namespace crema::sim
