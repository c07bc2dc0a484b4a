#include "cache/frequency_sketch.h"

#include <algorithm>
#include <cassert>
#include <cstring>
#include <new>

namespace crema::cache {
namespace {

constexpr int64_t kMaxBlocks = int64_t{1} << 27;  // 8 GiB of counters: beyond any real cache.

}  // namespace

FrequencySketch::FrequencySketch(int64_t expected_entries, int words_per_entry_x8) {
  assert(expected_entries > 0 && words_per_entry_x8 > 0);
  // Blocks of 8 words; any count (the block index is a multiply-shift of the hash).
  const int64_t blocks = std::clamp<int64_t>(
      (std::min(expected_entries, kMaxBlocks) * words_per_entry_x8 + 63) / 64, 1, kMaxBlocks);
  blocks_ = static_cast<uint64_t>(blocks);
  void* table = std::aligned_alloc(64, blocks_ * 64);
  if (table == nullptr) throw std::bad_alloc();
  std::memset(table, 0, blocks_ * 64);
  table_.reset(static_cast<uint64_t*>(table));
  sample_size_ = expected_entries * kSampleSizePerEntry;
}

void FrequencySketch::Halve() {
  // Shifting the whole word right by one moves each counter's low bit into its neighbour's top
  // bit; masking with 0111 per nibble drops those bits, halving every counter at once.
  for (uint64_t i = 0; i < blocks_ * 8; ++i) table_[i] = (table_[i] >> 1) & 0x7777777777777777ull;
  additions_ /= 2;
}

}  // namespace crema::cache
