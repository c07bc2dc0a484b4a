#include "node/membership/phi_accrual.h"

#include <algorithm>
#include <cassert>
#include <cmath>

namespace crema::membership {
namespace {

constexpr double kLn10 = 2.302585092994046;
constexpr double kSqrtPi = 1.7724538509055159;
constexpr double kSqrt2 = 1.4142135623730951;
// Beyond this z/√2 erfc loses relative precision in double; switch to the asymptotic form.
constexpr double kErfcAsymptoticFrom = 20.0;

}  // namespace

double NormalTailPhi(double x, double mean, double std) {
  assert(std > 0);
  const double u = (x - mean) / (std * kSqrt2);  // P(X > x) = erfc(u) / 2
  if (u < kErfcAsymptoticFrom) {
    const double tail = 0.5 * std::erfc(u);
    return -std::log10(tail);
  }
  // log(erfc(u)) ≈ -u² - log(u√π) (first term of the asymptotic series; relative error < 1/(2u²)).
  const double ln_tail = -u * u - std::log(u * kSqrtPi) - std::log(2.0);
  return -ln_tail / kLn10;
}

PhiAccrualDetector::PhiAccrualDetector(PhiAccrualConfig config) : config_(config) {
  assert(config_.window_samples >= 2 && config_.window_samples <= kMaxPhiWindowSamples);
  assert(config_.threshold > 0);
  assert(config_.min_std_deviation > absl::ZeroDuration());
  assert(config_.first_heartbeat_estimate > absl::ZeroDuration());
}

void PhiAccrualDetector::Heartbeat(absl::Time now) {
  if (!last_.has_value()) {
    last_ = now;
    return;
  }
  if (now < *last_) return;
  const double interval_ms = absl::ToDoubleMilliseconds(now - *last_);
  last_ = now;
  if (count_ == config_.window_samples) {
    const double old = intervals_ms_[next_];
    sum_ms_ -= old;
    sum_squares_ms2_ -= old * old;
    intervals_ms_[next_] = interval_ms;
  } else {
    ++count_;
    intervals_ms_.push_back(interval_ms);  // grows lazily: many detectors are mostly idle
  }
  sum_ms_ += interval_ms;
  sum_squares_ms2_ += interval_ms * interval_ms;
  next_ = (next_ + 1) % config_.window_samples;
  assert(count_ <= config_.window_samples);
}

absl::Duration PhiAccrualDetector::MeanInterval() const {
  if (count_ == 0) return config_.first_heartbeat_estimate;
  return absl::Milliseconds(sum_ms_ / static_cast<double>(count_));
}

absl::Duration PhiAccrualDetector::StdDeviation() const {
  if (count_ == 0) return config_.first_heartbeat_estimate / 4;
  const double n = static_cast<double>(count_);
  const double mean = sum_ms_ / n;
  // Incremental sums can drift slightly negative through rounding; clamp.
  const double variance = std::max(0.0, sum_squares_ms2_ / n - mean * mean);
  return absl::Milliseconds(std::sqrt(variance));
}

double PhiAccrualDetector::Phi(absl::Time now) const {
  if (!last_.has_value() || now <= *last_) return 0.0;
  const double elapsed_ms = absl::ToDoubleMilliseconds(now - *last_);
  const double mean_ms = absl::ToDoubleMilliseconds(MeanInterval() +
                                                    config_.acceptable_heartbeat_pause);
  const double std_ms = absl::ToDoubleMilliseconds(std::max(StdDeviation(),
                                                            config_.min_std_deviation));
  return std::max(0.0, NormalTailPhi(elapsed_ms, mean_ms, std_ms));
}

}  // namespace crema::membership
