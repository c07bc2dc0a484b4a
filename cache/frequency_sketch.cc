#include "cache/frequency_sketch.h"

#include <algorithm>
#include <cassert>

namespace crema::cache {
namespace {

constexpr int64_t kMinWords = 8;           // One block.
constexpr int64_t kMaxWords = int64_t{1} << 30;  // 8 GiB of counters: far beyond any real cache.

int64_t RoundUpToPowerOfTwo(int64_t n) {
  int64_t p = 1;
  while (p < n) p <<= 1;
  return p;
}

}  // namespace

FrequencySketch::FrequencySketch(int64_t expected_entries) {
  assert(expected_entries > 0);
  int64_t words = RoundUpToPowerOfTwo(std::min(expected_entries, kMaxWords) * kWordsPerEntry);
  if (words < kMinWords) words = kMinWords;
  if (words > kMaxWords) words = kMaxWords;
  table_.assign(static_cast<size_t>(words), 0);
  block_mask_ = static_cast<uint64_t>(words / 8 - 1);
  sample_size_ = expected_entries * kSampleSizePerEntry;
}

void FrequencySketch::Halve() {
  // Shifting the whole word right by one moves each counter's low bit into its neighbour's top
  // bit; masking with 0111 per nibble drops those bits, halving every counter at once.
  for (uint64_t& word : table_) word = (word >> 1) & 0x7777777777777777ull;
  additions_ /= 2;
}

}  // namespace crema::cache
