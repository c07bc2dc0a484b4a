#include "chaos/config_cache.h"

#include <algorithm>
#include <cassert>

#include "node/random.h"

namespace crema::chaos::internal {
namespace {

constexpr uint64_t kStateSalt = 0x5bd1e9955bd1e995ULL;

}  // namespace

void ConfigCache::Encode(const std::vector<uint64_t>& set, int64_t state) {
  scratch_.clear();
  scratch_.push_back(static_cast<uint64_t>(state));
  size_t full = 0;
  while (full < set.size() && set[full] == ~uint64_t{0}) ++full;
  scratch_.push_back(full);
  for (size_t w = full; w < set.size(); ++w) {
    if (set[w] == 0) continue;
    scratch_.push_back(w);
    scratch_.push_back(set[w]);
  }
}

bool ConfigCache::EntryEquals(uint32_t entry) const {
  const size_t start = entry_start_[entry];
  const size_t end = entry + 1 < entry_start_.size() ? entry_start_[entry + 1] : words_.size();
  return end - start == scratch_.size() &&
         std::equal(scratch_.begin(), scratch_.end(), words_.begin() + start);
}

bool ConfigCache::Insert(uint64_t set_hash, const std::vector<uint64_t>& set, int64_t state) {
  Encode(set, state);
  const uint64_t key = set_hash ^ MixSeed(static_cast<uint64_t>(state) ^ kStateSalt);
  auto [it, inserted] = first_.try_emplace(key, kNoEntry);
  for (uint32_t e = it->second; e != kNoEntry; e = next_[e]) {
    if (EntryEquals(e)) return false;
  }
  assert(entry_start_.size() < kNoEntry);
  const auto entry = static_cast<uint32_t>(entry_start_.size());
  entry_start_.push_back(words_.size());
  words_.insert(words_.end(), scratch_.begin(), scratch_.end());
  next_.push_back(it->second);
  it->second = entry;
  return true;
}

size_t ConfigCache::ApproximateBytes() const {
  constexpr size_t kMapSlotBytes = sizeof(uint64_t) + sizeof(uint32_t) + 1;
  return (words_.capacity() + entry_start_.capacity()) * sizeof(uint64_t) +
         next_.capacity() * sizeof(uint32_t) + first_.capacity() * kMapSlotBytes;
}

}  // namespace crema::chaos::internal
