#include "node/eventual/core/hlc.h"

#include <algorithm>
#include <limits>

#include "absl/strings/str_cat.h"

namespace crema::eventual {

std::string Version::ToString() const { return absl::StrCat(wall_ns, ".", logical, "@", node); }

void HlcClock::Bump(int64_t l, uint32_t c) {
  // The logical counter is 32 bits; on (practically impossible) overflow, borrow a nanosecond so
  // the clock stays strictly increasing.
  if (c == std::numeric_limits<uint32_t>::max()) {
    l_ = l + 1;
    c_ = 0;
    return;
  }
  l_ = l;
  c_ = c;
}

Version HlcClock::Now(absl::Time wall) {
  const int64_t pt = absl::ToUnixNanos(wall);
  if (pt > l_) {
    l_ = pt;
    c_ = 0;
  } else {
    Bump(l_, c_ + 1);
  }
  return last();
}

bool HlcClock::Observe(const Version& seen, absl::Time wall) {
  const int64_t pt = absl::ToUnixNanos(wall);
  if (seen.wall_ns > pt && seen.wall_ns - pt > absl::ToInt64Nanoseconds(max_forward_skew_)) {
    ++rejected_;
    return false;
  }
  const int64_t l = std::max({l_, seen.wall_ns, pt});
  if (l == l_ && l == seen.wall_ns) {
    Bump(l, std::max(c_, seen.logical) + 1);
  } else if (l == l_) {
    Bump(l, c_ + 1);
  } else if (l == seen.wall_ns) {
    Bump(l, seen.logical + 1);
  } else {
    Bump(l, 0);
  }
  return true;
}

}  // namespace crema::eventual
