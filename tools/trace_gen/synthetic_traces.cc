#include "tools/trace_gen/synthetic_traces.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <memory>
#include <queue>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "node/random.h"

namespace crema::tools {
namespace {

// Each part of a shape draws keys from its own range, so parts never collide.
constexpr uint64_t kPartShift = 40;

// A stream of keys, one per call.
class KeySource {
 public:
  virtual ~KeySource() = default;
  virtual uint64_t Next() = 0;
};

// Ranks 0..n-1 with P(rank r) proportional to 1 / (r + 1)^s, by inverse CDF.
class ZipfSource final : public KeySource {
 public:
  ZipfSource(int64_t n, double s, uint64_t base, Random& random)
      : base_(base), random_(random), cdf_(static_cast<size_t>(n)) {
    double sum = 0;
    for (int64_t r = 0; r < n; ++r) cdf_[r] = (sum += 1.0 / std::pow(static_cast<double>(r + 1), s));
    for (double& c : cdf_) c /= sum;
  }
  uint64_t Rank() {
    const double u = static_cast<double>(random_.Next() >> 11) * 0x1.0p-53;
    const size_t r = std::lower_bound(cdf_.begin(), cdf_.end(), u) - cdf_.begin();
    return std::min(r, cdf_.size() - 1);
  }
  uint64_t Next() override { return base_ + Rank(); }

 private:
  const uint64_t base_;
  Random& random_;
  std::vector<double> cdf_;
};

// New keys, each used a second time `min_delay..max_delay` requests (of this source) later with
// probability pair_numerator / 4, else only once.
class PairsSource final : public KeySource {
 public:
  PairsSource(int64_t max_delay, uint64_t pair_numerator, uint64_t base, Random& random)
      : max_delay_(max_delay), pair_numerator_(pair_numerator), next_key_(base),
        random_(random) {}
  uint64_t Next() override {
    ++now_;
    if (!pending_.empty() && pending_.top().first <= now_) {
      const uint64_t key = pending_.top().second;
      pending_.pop();
      return key;
    }
    const uint64_t key = next_key_++;
    if (random_.Chance(pair_numerator_, 4)) {
      pending_.emplace(now_ + random_.Range(1, max_delay_), key);
    }
    return key;
  }

 private:
  using Due = std::pair<int64_t, uint64_t>;  // (request number, key)
  const int64_t max_delay_;
  const uint64_t pair_numerator_;
  uint64_t next_key_;
  int64_t now_ = 0;
  Random& random_;
  std::priority_queue<Due, std::vector<Due>, std::greater<Due>> pending_;
};

// The LRU stack model: a new key 1 time in 8, else the key at stack depth d (1 = most recent),
// P(d > x) ~ 16 / (x + 15) (Pareto with exponent 1), so most re-uses are recent and a few go deep.
class StackSource final : public KeySource {
 public:
  StackSource(int64_t length, uint64_t base, Random& random)
      : base_(base), random_(random), tree_(static_cast<size_t>(length) + 1),
        key_at_(static_cast<size_t>(length)) {}
  uint64_t Next() override {
    const int64_t t = now_++;
    uint64_t key;
    const int64_t depth =
        (int64_t{16} << 20) / static_cast<int64_t>(random_.Uniform(uint64_t{1} << 20) + 1) - 15;
    if (random_.OneIn(8) || depth > live_) {
      key = base_ + next_key_++;
      ++live_;
    } else {
      // The position of the live key with exactly `depth` live keys at or after it.
      const int64_t position = FindKth(live_ - depth + 1);
      key = key_at_[position];
      Add(position, -1);
    }
    key_at_[t] = key;
    Add(t, +1);
    return key;
  }

 private:
  // Fenwick tree over request positions: 1 where a live key was last used.
  void Add(int64_t position, int delta) {
    for (size_t i = position + 1; i < tree_.size(); i += i & (~i + 1)) tree_[i] += delta;
  }
  int64_t FindKth(int64_t k) const {  // 1-based k-th set position.
    size_t pos = 0;
    size_t step = 1;
    while (step * 2 < tree_.size()) step *= 2;
    for (; step > 0; step /= 2) {
      if (pos + step < tree_.size() && tree_[pos + step] < k) {
        pos += step;
        k -= tree_[pos];
      }
    }
    return static_cast<int64_t>(pos);  // 0-based position
  }

  const uint64_t base_;
  Random& random_;
  std::vector<int32_t> tree_;
  std::vector<uint64_t> key_at_;
  int64_t now_ = 0;
  int64_t live_ = 0;
  uint64_t next_key_ = 0;
};

// Zipf over a window of keys that slides by one key every `period` requests: a key is most
// popular when it appears and fades as it ages.
class DriftSource final : public KeySource {
 public:
  DriftSource(int64_t n, int64_t period, uint64_t base, Random& random)
      : zipf_(n, 0.9, 0, random), n_(n), period_(period), base_(base) {}
  uint64_t Next() override {
    const int64_t t = now_++;
    return base_ + static_cast<uint64_t>(n_ + t / period_) - zipf_.Rank();
  }

 private:
  ZipfSource zipf_;
  const int64_t n_;
  const int64_t period_;
  const uint64_t base_;
  int64_t now_ = 0;
};

// Zipf hot keys, interrupted by runs of 1,000..10,000 never-repeated sequential keys, which
// start with probability 1/8,250 per hot request (so ~40% of requests are scans).
class ScanSource final : public KeySource {
 public:
  ScanSource(uint64_t base, Random& random)
      : zipf_(20'000, 0.9, base, random), next_scan_key_(base + (uint64_t{1} << 32)),
        random_(random) {}
  uint64_t Next() override {
    if (scan_left_ == 0 && random_.OneIn(8'250)) scan_left_ = random_.Range(1'000, 10'000);
    if (scan_left_ > 0) {
      --scan_left_;
      return next_scan_key_++;
    }
    return zipf_.Next();
  }

 private:
  ZipfSource zipf_;
  uint64_t next_scan_key_;
  int64_t scan_left_ = 0;
  Random& random_;
};

class LoopSource final : public KeySource {
 public:
  LoopSource(int64_t loop, uint64_t base, Random& random)
      : loop_(loop), base_(base), next_noise_(base + (uint64_t{1} << 32)), random_(random) {}
  uint64_t Next() override {
    if (random_.OneIn(5)) return next_noise_++;
    const uint64_t key = base_ + static_cast<uint64_t>(position_);
    position_ = (position_ + 1) % loop_;
    return key;
  }

 private:
  const int64_t loop_;
  const uint64_t base_;
  uint64_t next_noise_;
  int64_t position_ = 0;
  Random& random_;
};

// Picks one of two sources per request (with probability 1/2), or alternates in blocks.
class MixSource final : public KeySource {
 public:
  MixSource(std::unique_ptr<KeySource> a, std::unique_ptr<KeySource> b, int64_t block,
            Random& random)
      : a_(std::move(a)), b_(std::move(b)), block_(block), random_(random) {}
  uint64_t Next() override {
    const int64_t t = now_++;
    const bool first = block_ > 0 ? (t / block_) % 2 == 0 : random_.OneIn(2);
    return first ? a_->Next() : b_->Next();
  }

 private:
  std::unique_ptr<KeySource> a_, b_;
  const int64_t block_;  // 0: random interleaving.
  Random& random_;
  int64_t now_ = 0;
};

std::unique_ptr<KeySource> MakeSource(std::string_view shape, int64_t length, Random& random) {
  const uint64_t part1 = uint64_t{1} << kPartShift;
  const uint64_t part2 = uint64_t{2} << kPartShift;
  if (shape == "pairs") return std::make_unique<PairsSource>(100, 3, part1, random);
  if (shape == "pairs_far") return std::make_unique<PairsSource>(2'000, 3, part1, random);
  if (shape == "stack") return std::make_unique<StackSource>(length, part1, random);
  if (shape == "zipf") return std::make_unique<ZipfSource>(100'000, 0.9, part1, random);
  if (shape == "zipf_drift") return std::make_unique<DriftSource>(20'000, 8, part1, random);
  if (shape == "scan") return std::make_unique<ScanSource>(part1, random);
  if (shape == "loop") return std::make_unique<LoopSource>(5'000, part1, random);
  if (shape == "mixture") {
    return std::make_unique<MixSource>(std::make_unique<ZipfSource>(10'000, 0.8, part1, random),
                                       std::make_unique<PairsSource>(5'000, 4, part2, random),
                                       0, random);
  }
  if (shape == "phases") {
    return std::make_unique<MixSource>(std::make_unique<PairsSource>(100, 3, part1, random),
                                       std::make_unique<ZipfSource>(100'000, 0.9, part2, random),
                                       100'000, random);
  }
  return nullptr;
}

}  // namespace

const std::vector<std::string>& SyntheticShapeNames() {
  static const auto* names = new std::vector<std::string>{
      "pairs", "pairs_far", "stack", "zipf", "zipf_drift", "scan", "loop", "mixture", "phases"};
  return *names;
}

absl::StatusOr<std::vector<uint64_t>> GenerateSyntheticTrace(std::string_view shape,
                                                             int64_t length, uint64_t seed) {
  if (length < 1 || length > kMaxSyntheticLength) {
    return absl::InvalidArgumentError(
        absl::StrCat("trace length ", length, " outside [1, ", kMaxSyntheticLength, "]"));
  }
  Random random(seed);
  std::unique_ptr<KeySource> source = MakeSource(shape, length, random);
  if (source == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("unknown shape '", std::string(shape),
                                                   "' (want one of ",
                                                   absl::StrJoin(SyntheticShapeNames(), ", "),
                                                   ")"));
  }
  std::vector<uint64_t> keys(static_cast<size_t>(length));
  for (uint64_t& key : keys) key = source->Next();
  return keys;
}

}  // namespace crema::tools
