// LatencyModel: the one-way delay of a simulated message, drawn from a seeded Random.
//
// Kinds (all integer arithmetic, so a seed gives the same delays everywhere):
//   kUniform      uniform in [min, max];
//   kExponential  min + an exponential-like tail with mean `mean` (a geometric number of
//                 mean/16-sized steps, success 1/16 per step, capped at kMaxExponentialSteps);
//   kLongTail     uniform in [min, max], except with probability `tail` uniform in [max, tail_max].
// Jitter in any of them reorders messages on the same link (there is no FIFO guarantee).
//
// Thread safety: plain value type.
#ifndef CREMA_SIM_LATENCY_MODEL_H_
#define CREMA_SIM_LATENCY_MODEL_H_

#include <string>

#include "absl/time/time.h"
#include "node/random.h"
#include "sim/ratio.h"

namespace crema::sim {

struct LatencyModel {
  enum class Kind : uint8_t { kUniform, kExponential, kLongTail };
  static constexpr int kMaxExponentialSteps = 16 * 16;

  Kind kind = Kind::kUniform;
  absl::Duration min = absl::Microseconds(500);
  absl::Duration max = absl::Milliseconds(5);
  absl::Duration mean = absl::Milliseconds(2);  // kExponential
  Ratio tail{1, 50};                            // kLongTail
  absl::Duration tail_max = absl::Milliseconds(500);

  absl::Duration Sample(Random& random) const;
  std::string ToString() const;
};

}  // namespace crema::sim

#endif  // CREMA_SIM_LATENCY_MODEL_H_
