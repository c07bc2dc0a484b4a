// Internal to chaos/linearizability: the sequential model of ONE KEY OF A CACHE, for histories
// of the `cache` scenario (LinearizabilityOptions::cache).
//
// A cache is a register that may lose its value: capacity may evict it at any moment (only when
// `may_evict`), and a value written with a TTL may expire. The model's state is therefore the SET
// of states the key may be in — alternatives (value, has_ttl) — and a step maps each alternative
// to its successors; an operation is illegal when no alternative allows it. Exact where the cache
// is exact, lenient where it may lose data:
//   * eviction is a real state change: before every step the set gains "absent" (may_evict);
//     a read that sees absent keeps only the alternatives that allow it, so a later CAS on the
//     evicted value fails as the real cache's would;
//   * expiry is soft: the replicated state expires a TTL'd value by the shard's log time, while
//     reads judge it by the reader's wall clock (cache_state_machine.h), so a read may miss a
//     TTL'd value that a conditional write still finds. A read of absent keeps TTL'd alternatives
//     as they are; conditional writes may find a TTL'd value present or expired. (How LATE a
//     value may still be read is the TTL oracle's business, not this model's.)
// Sequential semantics per alternative a = (v, ttl) (v may be absent):
//   put(x, ttl')       -> (x, ttl')                        delete -> absent
//   get -> x           iff v == x                          get -> absent iff v absent or ttl
//   cas(e, x) ok       iff v == e (e absent: v absent, or ttl) -> (x, ttl')
//   cas fail           iff v != e (or e present and ttl)       -> a
//   incr(d) ok -> r    iff v integer and v + d == r -> (r, ttl); or (v absent or ttl) and d == r
//   incr fail          iff v present and not a 64-bit integer (or the sum overflows) -> a
//   expire ok          iff v present -> (v, true)              persist ok iff v present and ttl
//   expire fail        iff v absent or ttl                     persist fail: always allowed
// Indeterminate operations, when linearized, take any of their possible outcomes.
//
// Thread safety: none; one model per search.
#ifndef CREMA_CHAOS_CACHE_MODEL_H_
#define CREMA_CHAOS_CACHE_MODEL_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "chaos/kv_model.h"
#include "chaos/wgl_search.h"

namespace crema::chaos::internal {

class CacheModel final : public SequentialModel {
 public:
  // The alternatives of a state are distinct (value, ttl) pairs of this key's history (plus
  // results of indeterminate increments), so their number is bounded by the history itself.
  CacheModel(const std::vector<ModelOp>& ops, const Interner& values, bool may_evict);
  int64_t InitialState() override { return initial_; }
  int64_t Step(int64_t state, size_t op) override;
  bool IsReadOnly(size_t) override { return false; }  // reads narrow the set of alternatives
  std::string DescribeState(int64_t state) override;

 private:
  struct Alt {
    int32_t value = kAbsentValue;
    bool ttl = false;
    friend bool operator==(const Alt&, const Alt&) = default;
    friend auto operator<=>(const Alt& a, const Alt& b) {
      return a.value != b.value ? a.value <=> b.value : a.ttl <=> b.ttl;
    }
  };
  int64_t Intern(std::vector<Alt> alts);
  std::optional<int64_t> IntOf(int32_t value);
  int32_t InternValue(const std::string& bytes);

  const std::vector<ModelOp>& ops_;
  Interner values_;  // the history's values, plus results of indeterminate increments
  bool may_evict_;
  std::vector<std::vector<Alt>> states_;
  absl::flat_hash_map<std::string, int64_t> state_ids_;  // encoded alternatives -> id
  absl::flat_hash_map<int32_t, std::optional<int64_t>> ints_;
  int64_t initial_ = 0;
};

}  // namespace crema::chaos::internal

#endif  // CREMA_CHAOS_CACHE_MODEL_H_
