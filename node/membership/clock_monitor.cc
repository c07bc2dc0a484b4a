#include "node/membership/clock_monitor.h"

#include <algorithm>
#include <cassert>
#include <vector>

#include "absl/strings/str_cat.h"

namespace crema::membership {
namespace {

std::string SignedMs(absl::Duration d) {
  const int64_t ms = absl::ToInt64Milliseconds(d);
  return absl::StrCat(ms >= 0 ? "+" : "", ms, " ms");
}

}  // namespace

std::string DescribeClockStatus(const ClockStatus& s, absl::Duration max_offset) {
  if (!s.enabled) return "clock monitor off";
  return absl::StrCat(s.out_of_bound ? "clock out of bound" : "clock in bound", ": offset ",
                      SignedMs(s.median_offset), " to the median peer (max ",
                      SignedMs(s.max_offset_seen), "; ", s.peers_beyond, " of ",
                      s.peers_estimated, " peers beyond ", absl::ToInt64Milliseconds(max_offset),
                      " ms)");
}

ClockMonitor::ClockMonitor(ClockMonitorConfig config) : config_(config) {
  assert(config_.max_offset >= absl::ZeroDuration());
  assert(config_.sample_ttl > absl::ZeroDuration());
  assert(config_.recovery_hold >= absl::ZeroDuration());
  status_.enabled = config_.max_offset > absl::ZeroDuration();
}

void ClockMonitor::AddSample(const ClockSample& s) {
  assert(s.error >= absl::ZeroDuration());
  if (!status_.enabled || s.peer == kNoNode) return;
  auto it = samples_.find(s.peer);
  if (it == samples_.end()) {
    if (samples_.size() >= kMaxClockPeers) {
      ++status_.samples_dropped;
      return;
    }
    samples_.emplace(s.peer, s);
  } else if (s.taken_at >= it->second.taken_at) {
    it->second = s;
  }
  ++status_.samples;
}

std::optional<ClockSample> ClockMonitor::SampleOf(NodeId peer) const {
  auto it = samples_.find(peer);
  if (it == samples_.end()) return std::nullopt;
  return it->second;
}

bool ClockMonitor::Evaluate(absl::Time now, absl::Span<const NodeId> live_peers) {
  assert(now >= last_now_);
  last_now_ = now;
  if (!status_.enabled) return false;
  absl::erase_if(samples_, [&](const auto& entry) {
    return now - entry.second.taken_at >= config_.sample_ttl;
  });
  std::vector<absl::Duration> offsets;
  size_t beyond = 0;
  for (NodeId peer : live_peers) {
    auto it = samples_.find(peer);
    if (it == samples_.end()) continue;
    const ClockSample& s = it->second;
    offsets.push_back(s.offset);
    if (absl::AbsDuration(s.offset) - s.error > config_.max_offset) ++beyond;
  }
  std::sort(offsets.begin(), offsets.end());
  status_.peers_estimated = offsets.size();
  status_.peers_beyond = beyond;
  status_.median_offset = absl::ZeroDuration();
  status_.max_offset_seen = absl::ZeroDuration();
  if (!offsets.empty()) {
    const size_t n = offsets.size();
    status_.median_offset = n % 2 == 1 ? offsets[n / 2] : (offsets[n / 2 - 1] + offsets[n / 2]) / 2;
    status_.max_offset_seen =
        -offsets.front() > offsets.back() ? offsets.front() : offsets.back();
  }
  const bool beyond_majority = status_.peers_estimated > 0 && 2 * beyond > status_.peers_estimated;
  const bool was_out = status_.out_of_bound;
  if (!was_out) {
    if (beyond_majority) status_.out_of_bound = true;
  } else if (beyond_majority || status_.peers_estimated == 0) {
    in_bound_since_.reset();  // still beyond, or no evidence either way
  } else {
    if (!in_bound_since_.has_value()) in_bound_since_ = now;
    if (now - *in_bound_since_ >= config_.recovery_hold) status_.out_of_bound = false;
  }
  if (status_.out_of_bound == was_out) return false;
  in_bound_since_.reset();
  status_.since = now;
  ++status_.transitions;
  return true;
}

}  // namespace crema::membership
