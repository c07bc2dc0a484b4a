#include "node/clock.h"

#include <cassert>

namespace crema {

void ManualClock::Advance(absl::Duration d) {
  assert(d >= absl::ZeroDuration());
  now_ += d;
}

}  // namespace crema
