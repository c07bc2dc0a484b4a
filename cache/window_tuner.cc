#include "cache/window_tuner.h"

#include <algorithm>
#include <cassert>

namespace crema::cache {

WindowTuner::WindowTuner(int64_t capacity_entries)
    : depth_(std::clamp(capacity_entries / kDepthDivisor, kMinDepth, kMaxDepth)) {
  assert(capacity_entries > 0);
  for (auto& ring : rings_) ring.resize(static_cast<size_t>(depth_));
  shadows_.reserve(static_cast<size_t>(2 * depth_));
}

void WindowTuner::OnLost(Side side, uint64_t hash, uint32_t weight) {
  const int s = static_cast<int>(side);
  // Only the last `depth_` losses of a side are kept: the oldest record leaves with its slot.
  RingSlot& slot = rings_[s][ring_next_[s]++ % rings_[s].size()];
  if (slot.position != ~uint64_t{0}) {
    auto it = shadows_.find(slot.hash);
    if (it != shadows_.end() && it->second.side == side && it->second.position == slot.position) {
      shadows_.erase(it);
    }
  }
  const uint64_t position = losses_[s];
  if (side == Side::kMain) ++losses_[s];
  slot = RingSlot{hash, position};
  shadows_[hash] = Record{position, weight, side};
  assert(shadows_.size() <= 2 * rings_[0].size());
}

int64_t WindowTuner::OnMiss(uint64_t hash) {
  auto it = shadows_.find(hash);
  if (it == shadows_.end()) return 0;
  const Record record = it->second;
  shadows_.erase(it);
  const int s = static_cast<int>(record.side);
  // Would capacity `depth_` larger on that side have kept the key until now?
  if (losses_[s] - record.position > static_cast<uint64_t>(depth_)) return 0;
  const int64_t step = kStepPerHit * std::max<int64_t>(record.weight, 1);
  return record.side == Side::kWindow ? step : -step;
}

}  // namespace crema::cache
