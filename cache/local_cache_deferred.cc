// LocalCache for replicated owners: absolute deadlines, side-effect-free reads, iteration, and
// deferred eviction (EvictionCandidates / Evict). See "Deferred eviction" in local_cache.h.
//
// EvictionCandidates runs the same duels as LocalCache::Evict (local_cache.cc) without removing
// anything. Automatic eviction first moves the window's overflow to probation's most recent end
// (those entries are the candidates, in order) and then, while over capacity, lets the current
// candidate duel the least recent main entry that is not a candidate: probation first, then
// protected, then what is left of the window, and finally the remaining candidates themselves.
// Here the overflow stays in the window (it moves only once the cache fits again), so the dry run
// walks the same sequences: candidates = the window's overflow prefix; victims = probation,
// protected, the window after that prefix, then candidates that ran out of opponents. The
// admission lottery draws in the same order, so applying the returned keys with Evict right after
// a write leaves exactly the entries automatic eviction would have left (tested).
#include <algorithm>
#include <cassert>
#include <cstdlib>
#include <utility>

#include "cache/local_cache.h"
#include "cache/local_cache_internal.h"

namespace crema::cache {

using internal::Entry;
using internal::kNever;

int64_t LocalCache::ToEntryNs(absl::Time t) const {
  if (t == absl::InfiniteFuture()) return kNever;
  const int64_t ns = absl::ToInt64Nanoseconds(t - origin_);  // saturates
  return ns == kNever ? kNever - 1 : ns;
}

absl::Time LocalCache::FromEntryNs(int64_t ns) const {
  if (ns == kNever) return absl::InfiniteFuture();
  return origin_ + absl::Nanoseconds(ns);
}

bool LocalCache::Expired(const Entry* e) const { return timed_ && e->deadline_ns() <= NowNs(); }

void LocalCache::PutUntil(std::string_view key, std::string_view value, absl::Time deadline) {
  PutInternal(key, value, std::nullopt, ToEntryNs(deadline));
}

bool LocalCache::SetDeadline(std::string_view key, absl::Time deadline) {
  AssertNotInListener();
  DrainReads();
  const int64_t deadline_ns = ToEntryNs(deadline);
  if (deadline_ns != kNever) timed_ = true;
  const int64_t now_ns = Tick();
  const uint64_t hash = HashOf(key);
  Entry* e = index_.Find(hash, key);
  if (e == nullptr) return false;
  if (timed_ && e->deadline_ns() <= now_ns) {
    Remove(e, RemovalCause::kExpired);
    return false;
  }
  if (!e->has_timer()) {
    if (deadline_ns == kNever) return true;  // PERSIST of an entry that never expires.
    e = MoveEntry(e, hash, e->value(), /*timer=*/true);
  }
  internal::TimerBlock* t = e->timer();
  t->variable_deadline_ns = deadline_ns;
  const int64_t access_deadline_ns = internal::DeadlineAfterNs(now_ns, expire_after_access_ns_);
  UpdateTimer(e, std::min({t->write_deadline_ns, t->variable_deadline_ns, access_deadline_ns}));
  if (e->deadline_ns() <= now_ns) Remove(e, RemovalCause::kExpired);
  return true;
}

std::optional<absl::Time> LocalCache::DeadlineOf(std::string_view key) const {
  const Entry* e = index_.Find(HashOf(key), key);
  if (e == nullptr || Expired(e)) return std::nullopt;
  return FromEntryNs(e->deadline_ns());
}

ValuePtr LocalCache::Peek(std::string_view key) const {
  const Entry* e = index_.Find(HashOf(key), key);
  if (e == nullptr || Expired(e)) return nullptr;
  return ValuePtr(e->value());
}

void LocalCache::ForEachEntry(
    absl::FunctionRef<void(std::string_view key, std::string_view value, absl::Time deadline)> fn)
    const {
  const int64_t now_ns = timed_ ? NowNs() : 0;
  for (const AccessList* list : {&window_, &probation_, &protected_}) {
    for (const Entry* e = list->front(); e != nullptr; e = list->next(const_cast<Entry*>(e))) {
      if (timed_ && e->deadline_ns() <= now_ns) continue;
      fn(e->key(), e->value(), FromEntryNs(e->deadline_ns()));
    }
  }
}

std::vector<std::string> LocalCache::EvictionCandidates(int64_t weight_to_free,
                                                         size_t max_keys) {
  AssertNotInListener();
  DrainReads();
  std::vector<std::string> keys;
  for (const Entry* e : PlanEvictions(weight_to_free, max_keys)) keys.emplace_back(e->key());
  return keys;
}

bool LocalCache::Evict(std::string_view key) {
  AssertNotInListener();
  DrainReads();
  const int64_t now_ns = Tick();
  const uint64_t hash = HashOf(key);
  Entry* e = index_.Find(hash, key);
  if (e == nullptr) return false;
  if (timed_ && e->deadline_ns() <= now_ns) {
    Remove(e, RemovalCause::kExpired);
    return false;
  }
  EvictEntry(e, hash);
  if (deferred_eviction_) AdmitWindowOverflowIfRoom();
  return true;
}

}  // namespace crema::cache
