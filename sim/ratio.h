// Ratio: a probability as an integer fraction, so the same seed gives the same answers everywhere.
//
// Fault rates in the simulator are `Ratio`s, never floats: `Ratio{1, 100}` is "one in a hundred".
// `Ratio{0, 1}` (the default) never fires. `ParseRatio` reads the command-line form "N/D" (or "0").
//
// Thread safety: plain value type.
#ifndef CREMA_SIM_RATIO_H_
#define CREMA_SIM_RATIO_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "node/random.h"

namespace crema::sim {

struct Ratio {
  uint64_t numerator = 0;
  uint64_t denominator = 1;  // REQUIRES: > 0

  bool never() const { return numerator == 0; }
  // One draw from `random`: true with probability numerator/denominator.
  bool Draw(Random& random) const { return random.Chance(numerator, denominator); }
  std::string ToString() const;
  friend bool operator==(const Ratio&, const Ratio&) = default;
};

// "N/D" with D > 0 and N <= D, or "0" (never). nullopt for anything else.
std::optional<Ratio> ParseRatio(std::string_view text);

}  // namespace crema::sim

#endif  // CREMA_SIM_RATIO_H_
