// Random: the only source of randomness for node logic, always seeded and passed in explicitly.
//
// A `Random` is a small deterministic generator (xoshiro256**, seeded through SplitMix64). It is
// never global: the simulator derives one stream per node and per subsystem from the run's 64-bit
// seed with `Fork(stream_name)`, so that adding a draw in one subsystem does not reshuffle the
// draws of another. Production seeds it once from the OS (in transport/ only).
//
// Probabilities are integer ratios (`OneIn(20)`, `Chance(3, 100)`), never floats, so the same seed
// gives the same answers on every machine.
//
// Thread safety: none; a Random belongs to one node's event loop.
#ifndef CREMA_NODE_RANDOM_H_
#define CREMA_NODE_RANDOM_H_

#include <cstdint>
#include <string_view>

#include "absl/time/time.h"

namespace crema {

class Random {
 public:
  explicit Random(uint64_t seed);

  // A uniformly distributed 64-bit value.
  uint64_t Next();

  // Uniform in [0, n). REQUIRES: n > 0.
  uint64_t Uniform(uint64_t n);

  // Uniform in [lo, hi]. REQUIRES: lo <= hi.
  int64_t Range(int64_t lo, int64_t hi);

  // True with probability numerator/denominator. REQUIRES: denominator > 0.
  bool Chance(uint64_t numerator, uint64_t denominator);

  // True with probability 1/n. REQUIRES: n > 0.
  bool OneIn(uint64_t n) { return Uniform(n) == 0; }

  // Uniform duration in [lo, hi], at nanosecond resolution. REQUIRES: lo <= hi.
  absl::Duration DurationBetween(absl::Duration lo, absl::Duration hi);

  // A new independent stream derived from this generator's *seed* (not its current state) and a
  // name, so forks are stable however many draws this stream has made.
  Random Fork(std::string_view stream_name) const;
  Random Fork(uint64_t stream_id) const;

  uint64_t seed() const { return seed_; }

 private:
  uint64_t seed_;
  uint64_t state_[4];
};

// SplitMix64 step: a good 64-bit mixer, used to derive seeds.
uint64_t MixSeed(uint64_t x);

}  // namespace crema

#endif  // CREMA_NODE_RANDOM_H_
