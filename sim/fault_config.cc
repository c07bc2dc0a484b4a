#include "sim/fault_config.h"

#include "absl/strings/str_cat.h"

namespace crema::sim {
namespace {

// A rate "one in N" with N drawn log-uniformly-ish from [lo, hi] (powers of two).
Ratio OneInBetween(Random& random, uint64_t lo, uint64_t hi) {
  uint64_t n = lo;
  while (n * 2 <= hi && random.OneIn(2)) n *= 2;
  return Ratio{1, n};
}

DiskFaultConfig NoDiskFaults() {
  DiskFaultConfig disk;
  disk.unsynced_write_lost = {0, 1};
  disk.unsynced_write_torn = {0, 1};
  disk.unsynced_file_vanishes = {0, 1};
  return disk;
}

}  // namespace

std::optional<FaultLevel> ParseFaultLevel(std::string_view text) {
  if (text == "none") return FaultLevel::kNone;
  if (text == "default") return FaultLevel::kDefault;
  if (text == "heavy") return FaultLevel::kHeavy;
  return std::nullopt;
}

FaultConfig MakeFaultConfig(FaultLevel level, Random random) {
  FaultConfig c;
  if (level == FaultLevel::kNone) {
    c.disk = NoDiskFaults();
    return c;
  }
  const bool heavy = level == FaultLevel::kHeavy;
  auto on = [&](uint64_t numerator, uint64_t denominator) {
    return heavy || random.Chance(numerator, denominator);
  };
  // Network.
  c.network.latency.kind = static_cast<LatencyModel::Kind>(random.Uniform(3));
  c.network.latency.min = absl::Microseconds(random.Range(50, 1000));
  c.network.latency.max = c.network.latency.min + absl::Microseconds(random.Range(100, 20'000));
  c.network.latency.mean = absl::Microseconds(random.Range(500, 10'000));
  c.network.latency.tail = OneInBetween(random, heavy ? 5 : 20, 200);
  c.network.latency.tail_max = absl::Milliseconds(random.Range(100, heavy ? 3000 : 800));
  if (on(1, 2)) c.network.drop = OneInBetween(random, heavy ? 5 : 20, 1000);
  if (on(1, 2)) c.network.duplicate = OneInBetween(random, heavy ? 5 : 20, 1000);
  // Disk: crash semantics are always realistic at kDefault+; the rest is swarm.
  c.disk.unsynced_write_lost = {random.Uniform(3), 4};
  c.disk.unsynced_write_torn = {random.Uniform(2), 4};
  c.disk.unsynced_file_vanishes = {random.Uniform(3), 2};
  if (on(1, 2)) {
    c.disk.latency_min = absl::Microseconds(random.Range(1, 100));
    c.disk.latency_max = c.disk.latency_min + absl::Microseconds(random.Range(0, heavy ? 20'000 : 2000));
  }
  if (on(1, 3)) c.disk.read_corruption = OneInBetween(random, heavy ? 20 : 100, 10'000);
  if (on(1, 4)) c.disk.io_error = OneInBetween(random, heavy ? 20 : 200, 10'000);
  // Clocks.
  if (on(1, 2)) {
    c.clock.max_offset = absl::Milliseconds(random.Range(1, heavy ? 60'000 : 2000));
    c.clock.max_drift_ppm = random.Range(1, heavy ? 1000 : 200);
  }
  c.buggify = on(1, 2);
  // Nemesis.
  c.crashes = on(2, 3);
  c.amnesia = on(1, 4);
  c.pauses = on(1, 2);
  c.partitions = on(1, 2);
  c.clogging = on(1, 2);
  c.swizzle = on(1, 3);
  c.clock_steps = on(1, 2);
  c.disk_full = on(1, 4);
  c.mean_fault_interval = absl::Milliseconds(random.Range(heavy ? 50 : 200, heavy ? 500 : 2000));
  c.max_fault_duration = absl::Milliseconds(random.Range(200, heavy ? 5000 : 3000));
  c.max_clock_step = absl::Milliseconds(random.Range(1, heavy ? 60'000 : 5000));
  return c;
}

void ApplyOverrides(const FaultOverrides& o, FaultConfig& c) {
  if (o.crashes) c.crashes = *o.crashes;
  if (o.amnesia) c.amnesia = *o.amnesia;
  if (o.pauses) c.pauses = *o.pauses;
  if (o.partitions) c.partitions = *o.partitions;
  if (o.clogging) c.clogging = *o.clogging;
  if (o.swizzle) c.swizzle = *o.swizzle;
  if (o.buggify) c.buggify = *o.buggify;
  if (o.clock_faults && !*o.clock_faults) {
    c.clock_steps = false;
    c.clock = ClockFaultConfig{};
  }
  if (o.disk_faults && !*o.disk_faults) {
    c.disk = NoDiskFaults();
    c.disk_full = false;
  }
  if (o.drop) c.network.drop = *o.drop;
  if (o.duplicate) c.network.duplicate = *o.duplicate;
}

void FaultConfig::ApplyTo(SimOptions& options) const {
  options.network = network;
  options.disk = disk;
  options.clock = clock;
  options.buggify = buggify;
}

std::string FaultConfig::Describe() const {
  std::string out = absl::StrCat(
      "latency=", network.latency.ToString(), " drop=", network.drop.ToString(),
      " dup=", network.duplicate.ToString(), " disk{lost=", disk.unsynced_write_lost.ToString(),
      " torn=", disk.unsynced_write_torn.ToString(), " corrupt=", disk.read_corruption.ToString(),
      " ioerr=", disk.io_error.ToString(), " latency<=", absl::FormatDuration(disk.latency_max),
      "} clock{offset<=", absl::FormatDuration(clock.max_offset), " drift<=", clock.max_drift_ppm,
      "ppm}");
  const std::pair<bool, const char*> switches[] = {
      {buggify, "buggify"},     {crashes, "crashes"},       {amnesia, "amnesia"},
      {pauses, "pauses"},       {partitions, "partitions"}, {clogging, "clogging"},
      {swizzle, "swizzle"},     {clock_steps, "clock_steps"}, {disk_full, "disk_full"}};
  for (const auto& [enabled, name] : switches) {
    if (enabled) absl::StrAppend(&out, " ", name);
  }
  absl::StrAppend(&out, " every~", absl::FormatDuration(mean_fault_interval));
  return out;
}

}  // namespace crema::sim
