#include "cache/replay_policies.h"

#include <algorithm>
#include <cstring>
#include <list>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "cache/local_cache.h"
#include "node/clock.h"

namespace crema::cache {
namespace {

class LruPolicy final : public ReplayPolicy {
 public:
  explicit LruPolicy(int64_t capacity) : capacity_(capacity) { index_.reserve(capacity + 1); }

  bool Access(uint64_t key) override {
    auto it = index_.find(key);
    if (it != index_.end()) {
      order_.splice(order_.end(), order_, it->second);
      return true;
    }
    order_.push_back(key);
    index_.emplace(key, std::prev(order_.end()));
    if (static_cast<int64_t>(index_.size()) > capacity_) {
      index_.erase(order_.front());
      order_.pop_front();
    }
    return false;
  }

 private:
  const int64_t capacity_;
  std::list<uint64_t> order_;  // Least recent first.
  absl::flat_hash_map<uint64_t, std::list<uint64_t>::iterator> index_;
};

// ARC per Megiddo & Modha (FAST 2003), Fig. 4. T1/T2 hold cached keys (seen once / at least twice
// recently), B1/B2 are their ghost lists (keys only). `p` is the target size of T1, an integer
// (adaptation steps use integer division), which reproduces the traces README's reference table.
class ArcPolicy final : public ReplayPolicy {
 public:
  explicit ArcPolicy(int64_t capacity) : c_(capacity) { index_.reserve(2 * capacity + 1); }

  bool Access(uint64_t x) override {
    auto it = index_.find(x);
    if (it != index_.end() && (it->second.list == kT1 || it->second.list == kT2)) {
      MoveToMru(it->second, kT2);  // Case I.
      return true;
    }
    if (it != index_.end() && it->second.list == kB1) {  // Case II.
      // The paper's ratio, in integer division (which is what the reference numbers use).
      const int64_t delta = std::max<int64_t>(1, size(kB2) / size(kB1));
      p_ = std::min(c_, p_ + delta);
      Replace(/*x_in_b2=*/false);
      MoveToMru(it->second, kT2);
      return false;
    }
    if (it != index_.end() && it->second.list == kB2) {  // Case III.
      const int64_t delta = std::max<int64_t>(1, size(kB1) / size(kB2));
      p_ = std::max<int64_t>(0, p_ - delta);
      Replace(/*x_in_b2=*/true);
      MoveToMru(it->second, kT2);
      return false;
    }
    // Case IV: not in any list.
    const int64_t l1 = size(kT1) + size(kB1);
    const int64_t total = l1 + size(kT2) + size(kB2);
    if (l1 == c_) {
      if (size(kT1) < c_) {
        DropLru(kB1);
        Replace(false);
      } else {
        DropLru(kT1);
      }
    } else if (total >= c_) {
      if (total == 2 * c_) DropLru(kB2);
      Replace(false);
    }
    lists_[kT1].push_back(x);
    index_.emplace(x, Slot{kT1, std::prev(lists_[kT1].end())});
    return false;
  }

 private:
  enum ListId { kT1 = 0, kT2 = 1, kB1 = 2, kB2 = 3 };
  struct Slot {
    ListId list;
    std::list<uint64_t>::iterator position;
  };

  int64_t size(ListId id) const { return static_cast<int64_t>(lists_[id].size()); }

  void MoveToMru(Slot& slot, ListId to) {
    lists_[to].splice(lists_[to].end(), lists_[slot.list], slot.position);
    slot.list = to;
  }

  void DropLru(ListId id) {
    index_.erase(lists_[id].front());
    lists_[id].pop_front();
  }

  void MoveLru(ListId from, ListId to) {
    const uint64_t key = lists_[from].front();
    MoveToMru(index_.find(key)->second, to);
  }

  // REPLACE(x, p): demote T1's or T2's least recent key to its ghost list.
  void Replace(bool x_in_b2) {
    const int64_t t1 = size(kT1);
    if (t1 >= 1 && ((x_in_b2 && t1 == p_) || t1 > p_)) {
      MoveLru(kT1, kB1);
    } else {
      MoveLru(kT2, kB2);
    }
  }

  const int64_t c_;
  int64_t p_ = 0;
  std::list<uint64_t> lists_[4];  // Least recent first.
  absl::flat_hash_map<uint64_t, Slot> index_;
};

class WTinyLfuPolicy final : public ReplayPolicy {
 public:
  explicit WTinyLfuPolicy(int64_t capacity) : cache_(clock_, Options(capacity)) {}

  bool Access(uint64_t key) override {
    char bytes[sizeof(key)];
    std::memcpy(bytes, &key, sizeof(key));
    const std::string_view k(bytes, sizeof(bytes));
    if (cache_.GetIfPresent(k) != nullptr) return true;
    cache_.Put(k, std::string_view());
    return false;
  }

 private:
  static CacheOptions Options(int64_t capacity) {
    CacheOptions options;
    options.max_weight = capacity;
    return options;
  }

  ManualClock clock_;
  LocalCache cache_;
};

}  // namespace

std::vector<int64_t> LruHitsBySize(const std::vector<uint64_t>& keys,
                                   const std::vector<int64_t>& sizes) {
  int64_t max_size = 0;
  for (int64_t s : sizes) max_size = std::max(max_size, s);
  // hits_at_depth[d]: requests whose stack depth (distinct keys since the last use, inclusive)
  // is d, for d <= max_size.
  std::vector<int64_t> hits_at_depth(static_cast<size_t>(max_size) + 1, 0);
  // Fenwick tree over request positions: 1 at the position of each key's latest use.
  const size_t n = keys.size();
  std::vector<int32_t> tree(n + 1, 0);
  auto add = [&](size_t position, int delta) {
    for (size_t i = position + 1; i <= n; i += i & (~i + 1)) tree[i] += delta;
  };
  auto prefix = [&](size_t position) {  // Set positions in [0, position).
    int64_t sum = 0;
    for (size_t i = position; i > 0; i -= i & (~i + 1)) sum += tree[i];
    return sum;
  };
  absl::flat_hash_map<uint64_t, size_t> last_use;
  last_use.reserve(n / 4);
  int64_t live = 0;
  for (size_t t = 0; t < n; ++t) {
    auto [it, inserted] = last_use.try_emplace(keys[t], t);
    if (!inserted) {
      const int64_t depth = live - prefix(it->second);  // Keys used at or after the last use.
      if (depth <= max_size) ++hits_at_depth[static_cast<size_t>(depth)];
      add(it->second, -1);
      it->second = t;
    } else {
      ++live;
    }
    add(t, +1);
  }
  for (size_t d = 1; d < hits_at_depth.size(); ++d) hits_at_depth[d] += hits_at_depth[d - 1];
  std::vector<int64_t> result;
  for (int64_t s : sizes) result.push_back(s <= 0 ? 0 : hits_at_depth[static_cast<size_t>(s)]);
  return result;
}

absl::StatusOr<std::unique_ptr<ReplayPolicy>> MakeReplayPolicy(std::string_view name,
                                                               int64_t capacity) {
  if (capacity <= 0) return absl::InvalidArgumentError("capacity must be positive");
  if (name == "lru") return std::make_unique<LruPolicy>(capacity);
  if (name == "arc") return std::make_unique<ArcPolicy>(capacity);
  if (name == "wtinylfu") return std::make_unique<WTinyLfuPolicy>(capacity);
  return absl::InvalidArgumentError(
      absl::StrCat("unknown policy '", std::string(name), "' (want lru, arc or wtinylfu)"));
}

}  // namespace crema::cache
