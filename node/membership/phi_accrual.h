// Phi-accrual failure detector (Hayashibara, Défago, Yared, Katayama, "The φ accrual failure
// detector", SRDS 2004).
//
// Instead of a yes/no verdict it outputs a suspicion level φ = -log10(P_later(t)), where t is the
// time since the last heartbeat and P_later(t) is the probability that a heartbeat arrives later
// than t, estimated from a bounded sliding window of observed inter-arrival times modelled as a
// normal distribution N(mean + acceptable_pause, max(stddev, min_std_deviation)). φ = 1 means a 10%
// chance that suspecting now is a mistake, φ = 8 (the default threshold) one in 10^8.
//
// The tail probability is computed exactly with std::erfc (not the logistic approximation used by
// Akka); far in the tail, where erfc underflows double precision, the standard asymptotic expansion
// erfc(x) ≈ exp(-x²)/(x√π) is used in log space, so φ keeps growing smoothly and never becomes
// infinite or NaN.
//
// Example (a Raft leader's view of one follower):
//   PhiAccrualDetector detector(PhiAccrualConfig{});
//   detector.Heartbeat(now);            // on every message from the peer
//   if (!detector.IsAvailable(now)) …   // φ(now) >= threshold
//
// Before the first inter-arrival sample the distribution is bootstrapped from
// `first_heartbeat_estimate` (mean) with a standard deviation of a quarter of it. Before the first
// heartbeat at all, φ is 0 (nothing is known, nothing is suspected).
//
// Pure and deterministic: time is passed in. Thread safety: none (one owner).
#ifndef CREMA_NODE_MEMBERSHIP_PHI_ACCRUAL_H_
#define CREMA_NODE_MEMBERSHIP_PHI_ACCRUAL_H_

#include <cstddef>
#include <optional>
#include <vector>

#include "absl/time/time.h"

namespace crema::membership {

inline constexpr size_t kMaxPhiWindowSamples = 10000;

struct PhiAccrualConfig {
  double threshold = 8.0;
  size_t window_samples = 1000;  // REQUIRES: 2 <= window_samples <= kMaxPhiWindowSamples
  absl::Duration min_std_deviation = absl::Milliseconds(100);
  absl::Duration acceptable_heartbeat_pause = absl::ZeroDuration();
  absl::Duration first_heartbeat_estimate = absl::Seconds(1);
};

class PhiAccrualDetector {
 public:
  explicit PhiAccrualDetector(PhiAccrualConfig config);

  // Records a heartbeat (any sign of life) at `now`. Times must not go backwards (a heartbeat
  // earlier than the last one is ignored).
  void Heartbeat(absl::Time now);

  // The suspicion level at `now`; 0 before the first heartbeat. Monotonically non-decreasing in
  // `now` between heartbeats.
  double Phi(absl::Time now) const;

  // φ(now) < threshold.
  bool IsAvailable(absl::Time now) const { return Phi(now) < config_.threshold; }

  // Window statistics (for tools and tests).
  size_t sample_count() const { return count_; }
  absl::Duration MeanInterval() const;
  absl::Duration StdDeviation() const;  // before clamping to min_std_deviation
  std::optional<absl::Time> last_heartbeat() const { return last_; }
  const PhiAccrualConfig& config() const { return config_; }

 private:
  PhiAccrualConfig config_;
  std::optional<absl::Time> last_;
  std::vector<double> intervals_ms_;  // ring buffer of the last `window_samples` intervals
  size_t next_ = 0;                   // ring position of the next write
  size_t count_ = 0;                  // samples in the ring (<= window_samples)
  double sum_ms_ = 0;
  double sum_squares_ms2_ = 0;
};

// -log10 of the probability that a normal(mean, std) variable exceeds `x`. Exposed for tests.
double NormalTailPhi(double x, double mean, double std);

}  // namespace crema::membership

#endif  // CREMA_NODE_MEMBERSHIP_PHI_ACCRUAL_H_
