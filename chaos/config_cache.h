// Internal to chaos/linearizability: the memo of configurations visited by the WGL search.
//
// A configuration is (set of linearized operations, model state). The set is a bitset over the
// search's internal operation ids, which number determinate operations in return order (then
// indeterminate ones): at any configuration every operation that returned before the pending
// return is linearized, so the bitset is a run of all-ones words followed by a few sparse
// words. Entries are stored compressed as
//   [state, number of leading all-ones words, (word index, word) for each later non-zero word]
// which is canonical (equal sets give equal encodings) and usually a handful of words instead of
// n/64.
//
// Only membership is queried; the hash map's iteration order never matters.
// Thread safety: none; one cache per search.
#ifndef CREMA_CHAOS_CONFIG_CACHE_H_
#define CREMA_CHAOS_CONFIG_CACHE_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "absl/container/flat_hash_map.h"

namespace crema::chaos::internal {

class ConfigCache {
 public:
  // Inserts (set, state); false if it was present already. `set_hash` must be a hash of `set`
  // (the search maintains a Zobrist hash incrementally).
  bool Insert(uint64_t set_hash, const std::vector<uint64_t>& set, int64_t state);

  size_t entries() const { return entry_start_.size(); }
  // Memory held, for the search's budget.
  size_t ApproximateBytes() const;

 private:
  static constexpr uint32_t kNoEntry = UINT32_MAX;

  void Encode(const std::vector<uint64_t>& set, int64_t state);
  bool EntryEquals(uint32_t entry) const;

  std::vector<uint64_t> words_;        // Concatenated encodings.
  std::vector<uint64_t> entry_start_;  // Entry -> offset in words_ (its end is the next start).
  std::vector<uint32_t> next_;         // Entry -> next entry with the same hash key.
  absl::flat_hash_map<uint64_t, uint32_t> first_;  // Hash key -> first entry.
  std::vector<uint64_t> scratch_;      // The encoding being inserted.
};

}  // namespace crema::chaos::internal

#endif  // CREMA_CHAOS_CONFIG_CACHE_H_
