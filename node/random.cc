#include "node/random.h"

#include <cassert>

#include "xxhash.h"

namespace crema {
namespace {

uint64_t RotateLeft(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

}  // namespace

uint64_t MixSeed(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

Random::Random(uint64_t seed) : seed_(seed) {
  uint64_t s = seed;
  for (uint64_t& word : state_) {
    s = MixSeed(s);
    word = s;
  }
}

uint64_t Random::Next() {
  const uint64_t result = RotateLeft(state_[1] * 5, 7) * 9;
  const uint64_t t = state_[1] << 17;
  state_[2] ^= state_[0];
  state_[3] ^= state_[1];
  state_[1] ^= state_[2];
  state_[0] ^= state_[3];
  state_[2] ^= t;
  state_[3] = RotateLeft(state_[3], 45);
  return result;
}

uint64_t Random::Uniform(uint64_t n) {
  assert(n > 0);
  if ((n & (n - 1)) == 0) {
    // A power of two: the same draws and results as below, without the two divisions
    // (UINT64_MAX % n == n - 1, x % n == x & (n - 1)). OneIn(16) on the latency path lives here.
    const uint64_t limit = UINT64_MAX - (n - 1);
    uint64_t x;
    do {
      x = Next();
    } while (x >= limit);
    return x & (n - 1);
  }
  // Rejection sampling removes modulo bias.
  const uint64_t limit = UINT64_MAX - UINT64_MAX % n;
  uint64_t x;
  do {
    x = Next();
  } while (x >= limit);
  return x % n;
}

int64_t Random::Range(int64_t lo, int64_t hi) {
  assert(lo <= hi);
  const uint64_t span = static_cast<uint64_t>(hi) - static_cast<uint64_t>(lo);
  if (span == UINT64_MAX) return static_cast<int64_t>(Next());
  return lo + static_cast<int64_t>(Uniform(span + 1));
}

bool Random::Chance(uint64_t numerator, uint64_t denominator) {
  assert(denominator > 0);
  if (numerator == 0) return false;
  return Uniform(denominator) < numerator;
}

absl::Duration Random::DurationBetween(absl::Duration lo, absl::Duration hi) {
  assert(lo <= hi);
  const int64_t lo_ns = absl::ToInt64Nanoseconds(lo);
  const int64_t hi_ns = absl::ToInt64Nanoseconds(hi);
  return absl::Nanoseconds(Range(lo_ns, hi_ns));
}

Random Random::Fork(std::string_view stream_name) const {
  return Random(MixSeed(seed_ ^ XXH3_64bits(stream_name.data(), stream_name.size())));
}

Random Random::Fork(uint64_t stream_id) const {
  return Random(MixSeed(seed_ ^ MixSeed(stream_id + 0x1234567ULL)));
}

}  // namespace crema
