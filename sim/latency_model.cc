#include "sim/latency_model.h"

#include "absl/strings/str_cat.h"

namespace crema::sim {

absl::Duration LatencyModel::Sample(Random& random) const {
  switch (kind) {
    case Kind::kUniform:
      return random.DurationBetween(min, max);
    case Kind::kExponential: {
      int steps = 0;
      while (steps < kMaxExponentialSteps && !random.OneIn(16)) ++steps;
      // A geometric count of failures at p=1/16 has mean 15.
      return min + mean * steps / 15;
    }
    case Kind::kLongTail:
      if (tail.Draw(random)) return random.DurationBetween(max, tail_max);
      return random.DurationBetween(min, max);
  }
  return min;
}

std::string LatencyModel::ToString() const {
  switch (kind) {
    case Kind::kUniform:
      return absl::StrCat("uniform[", absl::FormatDuration(min), ",", absl::FormatDuration(max),
                          "]");
    case Kind::kExponential:
      return absl::StrCat("exponential(min=", absl::FormatDuration(min),
                          ",mean=", absl::FormatDuration(mean), ")");
    case Kind::kLongTail:
      return absl::StrCat("longtail[", absl::FormatDuration(min), ",", absl::FormatDuration(max),
                          "]+", tail.ToString(), "->", absl::FormatDuration(tail_max));
  }
  return "?";
}

}  // namespace crema::sim
