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
#include "xxhash.h"

namespace crema::cache {
namespace {

using internal::Entry;
constexpr int64_t kNever = TimerWheel::kNever;

}  // namespace

int64_t LocalCache::ToEntryNs(absl::Time t) const {
  if (t == absl::InfiniteFuture()) return kNever;
  const int64_t ns = absl::ToInt64Nanoseconds(t - origin_);  // saturates
  return ns == kNever ? kNever - 1 : ns;
}

absl::Time LocalCache::FromEntryNs(int64_t ns) const {
  if (ns == kNever) return absl::InfiniteFuture();
  return origin_ + absl::Nanoseconds(ns);
}

bool LocalCache::Expired(const Entry* e) const { return timed_ && e->deadline_ns <= NowNs(); }

void LocalCache::PutUntil(std::string_view key, std::string_view value, absl::Time deadline) {
  PutInternal(key, value, std::nullopt, ToEntryNs(deadline));
}

bool LocalCache::SetDeadline(std::string_view key, absl::Time deadline) {
  AssertNotInListener();
  DrainReads();
  const int64_t deadline_ns = ToEntryNs(deadline);
  if (deadline_ns != kNever) timed_ = true;
  const int64_t now_ns = Tick();
  Entry* e = Find(key, XXH3_64bits(key.data(), key.size()));
  if (e == nullptr) return false;
  if (timed_ && e->deadline_ns <= now_ns) {
    Remove(e, RemovalCause::kExpired);
    return false;
  }
  e->variable_deadline_ns = deadline_ns;
  const int64_t access_deadline_ns =
      expire_after_access_ns_ == kNever ? kNever : now_ns + expire_after_access_ns_;
  UpdateTimer(e, std::min({e->write_deadline_ns, e->variable_deadline_ns, access_deadline_ns}));
  if (e->deadline_ns <= now_ns) Remove(e, RemovalCause::kExpired);
  return true;
}

std::optional<absl::Time> LocalCache::DeadlineOf(std::string_view key) const {
  const Entry* e = Find(key, XXH3_64bits(key.data(), key.size()));
  if (e == nullptr || Expired(e)) return std::nullopt;
  return FromEntryNs(e->deadline_ns);
}

const std::string* LocalCache::Peek(std::string_view key) const {
  const Entry* e = Find(key, XXH3_64bits(key.data(), key.size()));
  if (e == nullptr || Expired(e)) return nullptr;
  return &e->value;
}

void LocalCache::ForEachEntry(
    absl::FunctionRef<void(std::string_view key, std::string_view value, absl::Time deadline)> fn)
    const {
  const int64_t now_ns = timed_ ? NowNs() : 0;
  for (const Entry* e : entries_) {
    if (timed_ && e->deadline_ns <= now_ns) continue;
    fn(e->key, e->value, FromEntryNs(e->deadline_ns));
  }
}

void LocalCache::AdmitWindowOverflowIfRoom() {
  while (window_weight_ > window_max_weight_ && total_weight_ <= max_weight_) {
    Entry* e = window_.pop_front();
    if (e == nullptr) break;
    window_weight_ -= e->weight;
    e->queue = Queue::kProbation;
    probation_.push_back(e);
    tuner_.OnWindowExit();
  }
}

std::vector<std::string> LocalCache::EvictionCandidates(int64_t weight_to_free,
                                                         size_t max_keys) {
  AssertNotInListener();
  DrainReads();
  std::vector<std::string> evicted;
  if (weight_to_free <= 0 || max_keys == 0) return evicted;
  // Candidates: the window's least recent entries beyond its share.
  std::vector<Entry*> candidates;
  int64_t window_weight = window_weight_;
  Entry* rest_of_window = window_.front();
  while (window_weight > window_max_weight_ && rest_of_window != nullptr) {
    candidates.push_back(rest_of_window);
    window_weight -= rest_of_window->weight;
    rest_of_window = window_.next(rest_of_window);
  }
  // Victims, least recent first: probation, protected, the rest of the window; then candidates
  // that ran out of opponents are appended as they are needed.
  std::vector<Entry*> victims;
  for (Entry* e = probation_.front(); e != nullptr; e = probation_.next(e)) victims.push_back(e);
  for (Entry* e = protected_.front(); e != nullptr; e = protected_.next(e)) victims.push_back(e);
  for (Entry* e = rest_of_window; e != nullptr; e = window_.next(e)) victims.push_back(e);
  size_t next_candidate = 0;
  size_t next_victim = 0;
  int64_t freed = 0;
  auto evict = [&](Entry* e) {
    evicted.push_back(e->key);
    freed += e->weight;
  };
  while (freed < weight_to_free && evicted.size() < max_keys) {
    if (next_victim == victims.size()) {
      if (next_candidate == candidates.size()) break;  // nothing left at all
      victims.push_back(candidates[next_candidate++]);
    }
    Entry* victim = victims[next_victim];
    Entry* candidate =
        next_candidate < candidates.size() ? candidates[next_candidate] : nullptr;
    if (candidate == nullptr) {
      evict(victim);
      ++next_victim;
    } else if (candidate->weight > max_weight_ || !Admit(candidate, victim)) {
      evict(candidate);
      ++next_candidate;
    } else {
      evict(victim);
      ++next_victim;
    }
  }
  return evicted;
}

bool LocalCache::Evict(std::string_view key) {
  AssertNotInListener();
  DrainReads();
  const int64_t now_ns = Tick();
  Entry* e = Find(key, XXH3_64bits(key.data(), key.size()));
  if (e == nullptr) return false;
  if (timed_ && e->deadline_ns <= now_ns) {
    Remove(e, RemovalCause::kExpired);
    return false;
  }
  // Automatic eviction counts every overflow entry's exit from the window, and then the loss.
  if (e->queue == Queue::kWindow && window_weight_ > window_max_weight_) tuner_.OnWindowExit();
  if (e->weight <= max_weight_) {
    tuner_.OnLost(e->queue == Queue::kWindow ? WindowTuner::Side::kWindow
                                             : WindowTuner::Side::kMain,
                  e->hash, e->weight);
  }
  Remove(e, RemovalCause::kSize);
  if (deferred_eviction_) AdmitWindowOverflowIfRoom();
  return true;
}

}  // namespace crema::cache
