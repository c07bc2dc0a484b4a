#include "cache/window_tuner.h"

#include <algorithm>
#include <cassert>

namespace crema::cache {

namespace {

constexpr uint64_t kAll = uint64_t{1} << 24;

}  // namespace

WindowTuner::WindowTuner(int64_t capacity_entries, int64_t max_records_per_side)
    : depth_(std::clamp(capacity_entries / kDepthDivisor, kMinDepth, kMaxDepth)),
      threshold_(max_records_per_side == 0 || max_records_per_side >= depth_
                     ? kAll
                     : static_cast<uint64_t>(max_records_per_side) * kAll /
                           static_cast<uint64_t>(depth_)) {
  assert(capacity_entries > 0 && max_records_per_side >= 0);
  // A sampled ring holds ~depth x rate records; a quarter more absorbs the sampling's variance
  // (a record pushed out early is only a shadow hit not counted).
  const int64_t ring = threshold_ == kAll ? depth_
                                          : std::min<int64_t>(depth_, max_records_per_side +
                                                                          max_records_per_side / 4);
  for (auto& r : rings_) r.resize(static_cast<size_t>(ring));
  shadows_.reserve(static_cast<size_t>(2 * ring));
}

void WindowTuner::OnLost(Side side, uint64_t hash, uint32_t weight) {
  const int s = static_cast<int>(side);
  const uint64_t position = losses_[s];
  if (side == Side::kMain) ++losses_[s];
  if (!Sampled(hash)) return;
  // Only the last `depth_` losses of a side are kept: the oldest record leaves with its slot.
  RingSlot& slot = rings_[s][ring_next_[s]++ % rings_[s].size()];
  if (slot.position != ~uint64_t{0}) {
    auto it = shadows_.find(slot.hash);
    if (it != shadows_.end() && it->second.side == side && it->second.position == slot.position) {
      shadows_.erase(it);
    }
  }
  slot = RingSlot{hash, position};
  shadows_[hash] = Record{position, weight, side};
  assert(shadows_.size() <= 2 * rings_[0].size());
}

int64_t WindowTuner::OnMiss(uint64_t hash) {
  if (!Sampled(hash)) return 0;
  auto it = shadows_.find(hash);
  if (it == shadows_.end()) return 0;
  const Record record = it->second;
  shadows_.erase(it);
  const int s = static_cast<int>(record.side);
  // Would capacity `depth_` larger on that side have kept the key until now?
  if (losses_[s] - record.position > static_cast<uint64_t>(depth_)) return 0;
  // A sampled hit stands for 1 / rate hits of all keys.
  const int64_t step = static_cast<int64_t>(
      static_cast<uint64_t>(kStepPerHit * std::max<int64_t>(record.weight, 1)) * kAll /
      threshold_);
  return record.side == Side::kWindow ? step : -step;
}

}  // namespace crema::cache
