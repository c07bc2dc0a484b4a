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
  if (s.out_of_bound && s.peers_estimated == 0 && s.local_steps > 0) {
    return absl::StrCat("clock out of bound: wall clock stepped ", SignedMs(s.last_step),
                        " (beyond ", absl::ToInt64Milliseconds(max_offset),
                        " ms); re-measuring against peers");
  }
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

bool ClockMonitor::ObserveLocalClocks(absl::Time mono, absl::Time wall) {
  if (!status_.enabled) return false;
  const std::optional<std::pair<absl::Time, absl::Time>> last =
      std::exchange(last_local_, std::make_pair(mono, wall));
  if (!last.has_value()) return false;
  assert(mono >= last->first);
  const absl::Duration step = (wall - last->second) - (mono - last->first);
  if (absl::AbsDuration(step) <= config_.max_offset) return false;
  samples_.clear();
  in_bound_since_.reset();
  ++status_.local_steps;
  status_.last_step = step;
  status_.peers_estimated = 0;
  status_.peers_beyond = 0;
  if (status_.out_of_bound) return false;
  status_.out_of_bound = true;
  status_.since = mono;
  ++status_.transitions;
  return true;
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
  // Majorities of the live peers, not of the estimates: right after boot a good node may hold
  // one estimate, of the one bad peer, and must not conclude from it that it is the bad one.
  const size_t live = live_peers.size();
  const bool beyond_majority = 2 * beyond > live;
  const bool within_majority = 2 * (status_.peers_estimated - beyond) > live;
  const bool was_out = status_.out_of_bound;
  if (!was_out) {
    if (beyond_majority) status_.out_of_bound = true;
  } else if (!within_majority) {
    in_bound_since_.reset();  // still beyond, or not enough evidence that it is back
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
