#include "cache/local_cache.h"

#include <algorithm>
#include <cassert>
#include <cstdio>
#include <cstdlib>
#include <utility>

#include "xxhash.h"

namespace crema::cache {
namespace {

using internal::Entry;
constexpr int64_t kNever = TimerWheel::kNever;
constexpr int64_t kProtectedPercent = 80;

// Crashes loudly: programmer errors must not pass silently, even with NDEBUG.
#define CREMA_CACHE_CHECK(condition)                                                     \
  do {                                                                                   \
    if (!(condition)) {                                                                  \
      std::fprintf(stderr, "%s:%d: cache invariant violated: %s\n", __FILE__, __LINE__, \
                   #condition);                                                          \
      std::abort();                                                                      \
    }                                                                                    \
  } while (false)

int64_t DurationToNs(absl::Duration d) {
  if (d == absl::InfiniteDuration()) return kNever;
  return absl::ToInt64Nanoseconds(d);  // Saturates.
}

// now + d, saturating to kNever; a non-positive d gives `now` (due at once).
int64_t DeadlineAfterNs(int64_t now_ns, int64_t d_ns) {
  if (d_ns <= 0) return now_ns;
  if (d_ns >= kNever - now_ns) return kNever;
  return now_ns + d_ns;
}

absl::Duration Remaining(int64_t deadline_ns, int64_t now_ns) {
  if (deadline_ns == kNever) return absl::InfiniteDuration();
  return absl::Nanoseconds(deadline_ns - now_ns);
}

bool IsFinite(absl::Duration d) { return d != absl::InfiniteDuration(); }

}  // namespace

const char* RemovalCauseName(RemovalCause cause) {
  switch (cause) {
    case RemovalCause::kExplicit: return "explicit";
    case RemovalCause::kReplaced: return "replaced";
    case RemovalCause::kExpired: return "expired";
    case RemovalCause::kSize: return "size";
  }
  return "unknown";
}

size_t internal::EntryHash::operator()(std::string_view key) const {
  return XXH3_64bits(key.data(), key.size());
}

LocalCache::LocalCache(const Clock& clock, CacheOptions options)
    : clock_(clock),
      origin_(clock.MonotonicNow()),
      max_weight_(options.max_weight),
      weigher_(std::move(options.weigher)),
      expire_after_write_ns_(DurationToNs(options.expire_after_write)),
      expire_after_access_ns_(DurationToNs(options.expire_after_access)),
      expiry_(std::move(options.expiry)),
      listener_(std::move(options.removal_listener)),
      adaptive_window_(options.adaptive_window),
      deferred_eviction_(options.eviction == EvictionMode::kDeferred),
      timed_(IsFinite(options.expire_after_write) || IsFinite(options.expire_after_access) ||
             expiry_ != nullptr),
      window_max_weight_(options.max_weight * options.initial_window_percent / 100),
      protected_max_weight_(0),
      // With a weigher the entry count is unknown; size the sketch (and the window tuner's
      // shadows) for max_weight entries capped at 2^24 (128 MiB would be silly for a
      // byte-weighted cache).
      sketch_(std::min<int64_t>(std::max<int64_t>(options.max_weight, 1), int64_t{1} << 24)),
      window_adaptation_(options.window_adaptation),
      climber_(std::max<int64_t>(options.max_weight, 1),
               options.climber_sample_size > 0
                   ? options.climber_sample_size
                   : FrequencySketch::kSampleSizePerEntry * std::max<int64_t>(options.max_weight, 1)),
      tuner_(std::min<int64_t>(std::max<int64_t>(options.max_weight, 1), int64_t{1} << 24)),
      admission_random_(options.admission_seed) {
  CREMA_CACHE_CHECK(max_weight_ > 0);
  CREMA_CACHE_CHECK(options.initial_window_percent >= 0 && options.initial_window_percent <= 100);
  protected_max_weight_ = (max_weight_ - window_max_weight_) * kProtectedPercent / 100;
}

LocalCache::~LocalCache() {
  // Fail in-flight loads in key order (deterministic), then free entries without notifying.
  std::vector<std::shared_ptr<internal::PendingLoad>> loads;
  for (auto& [key, load] : loads_) loads.push_back(load);
  std::sort(loads.begin(), loads.end(),
            [](const auto& a, const auto& b) { return a->key < b->key; });
  loads_.clear();
  read_buffer_size_ = 0;  // The entries are freed below; no need to order them first.
  for (auto& load : loads) {
    load->cache = nullptr;
    std::vector<LoadDone> waiters = std::move(load->waiters);
    for (LoadDone& done : waiters) done(absl::CancelledError("cache destroyed during load"));
  }
  for (AccessList* list : {&window_, &probation_, &protected_}) {
    while (Entry* e = list->pop_front()) {
      if (static_cast<ListHook<TimerTag>*>(e)->linked()) wheel_.Unschedule(e);
      delete e;
    }
  }
}

void LocalCache::AssertNotInListener() const {
  // A listener that calls back would mutate the cache in the middle of an operation.
  CREMA_CACHE_CHECK(!in_listener_);
}

int64_t LocalCache::NowNs() const {
  return absl::ToInt64Nanoseconds(clock_.MonotonicNow() - origin_);
}

int64_t LocalCache::Tick() {
  if (!timed_) return 0;
  const int64_t now_ns = NowNs();
  // Expiry removes entries, which must not still sit in the read buffer.
  if (wheel_.WouldVisitBuckets(now_ns)) DrainReads();
  wheel_.Advance(now_ns, [this](TimerNode* node) { Remove(static_cast<Entry*>(node),
                                                          RemovalCause::kExpired); });
  return now_ns;
}

void LocalCache::RunPendingTasks() {
  AssertNotInListener();
  if (!timed_) return;
  DrainReads();
  wheel_.ExpireDue(NowNs(), [this](TimerNode* node) {
    Remove(static_cast<Entry*>(node), RemovalCause::kExpired);
  });
}

Entry* LocalCache::Find(std::string_view key, uint64_t hash) const {
  auto it = entries_.find(key, hash);
  return it == entries_.end() ? nullptr : *it;
}

const std::string* LocalCache::GetIfPresent(std::string_view key) {
  AssertNotInListener();
  const uint64_t hash = XXH3_64bits(key.data(), key.size());
  const int64_t now_ns = Tick();
  sketch_.Increment(hash);
  Entry* e = Find(key, hash);
  if (e == nullptr || (timed_ && e->deadline_ns <= now_ns)) {
    if (e != nullptr) {
      DrainReads();
      Remove(e, RemovalCause::kExpired);
    }
    ++stats_.misses;
    if (adaptive_window_ && window_adaptation_ == WindowAdaptation::kShadowQueues) {
      const int64_t adjustment = tuner_.OnMiss(hash);
      if (adjustment != 0) AdjustWindow(adjustment);
    }
    RecordAccess(false);
    return nullptr;
  }
  OnHit(e, now_ns);
  ++stats_.hits;
  RecordAccess(true);  // May move entries between queues, never removes one.
  return &e->value;
}

std::optional<std::string> LocalCache::Get(std::string_view key) {
  const std::string* value = GetIfPresent(key);
  if (value == nullptr) return std::nullopt;
  return *value;
}

void LocalCache::RecordAccess(bool hit) {
  if (!adaptive_window_ || window_adaptation_ != WindowAdaptation::kHillClimbing) return;
  const int64_t adjustment = climber_.Record(hit);
  if (adjustment != 0) AdjustWindow(adjustment);
}

void LocalCache::OnHit(Entry* e, int64_t now_ns) {
  if (expire_after_access_ns_ == kNever && expiry_ == nullptr) {
    // Skip moves that change nothing: a hit on the most recent entry of the window or protected
    // queue (with no earlier moves pending), or a repeat of the last buffered hit.
    if (read_buffer_size_ == 0 ? e->queue != Queue::kProbation && ListOf(e->queue).back() == e
                               : read_buffer_[read_buffer_size_ - 1] == e) {
      return;
    }
    read_buffer_[read_buffer_size_++] = e;
    if (read_buffer_size_ == kReadBufferSize) DrainReads();
    return;
  }
  DrainReads();  // Keep the moves in access order.
  Promote(e);
  if (expiry_ != nullptr && e->variable_deadline_ns != kNever) {
    const absl::Duration next = expiry_->AfterRead(
        e->key, e->value, Remaining(e->variable_deadline_ns, now_ns));
    e->variable_deadline_ns = DeadlineAfterNs(now_ns, DurationToNs(next));
  }
  const int64_t access_deadline_ns = DeadlineAfterNs(now_ns, expire_after_access_ns_);
  UpdateTimer(e, std::min({e->write_deadline_ns, e->variable_deadline_ns, access_deadline_ns}));
}

void LocalCache::DrainReads() {
  const int n = read_buffer_size_;
  if (n == 0) return;
  // Fetch every neighbour the moves will write before the first move, so that the cache misses
  // overlap instead of being paid one after another.
  for (int i = 0; i < n; ++i) {
    const ListHook<internal::AccessTag>* hook = read_buffer_[i];
    __builtin_prefetch(hook->prev, 1);
    __builtin_prefetch(hook->next, 1);
  }
  for (int i = 0; i < n; ++i) Promote(read_buffer_[i]);
  read_buffer_size_ = 0;
}

void LocalCache::SetDeadlinesOnWrite(Entry* e, int64_t now_ns, std::optional<absl::Duration> ttl,
                                     std::optional<int64_t> deadline_ns, bool created) {
  e->write_deadline_ns = DeadlineAfterNs(now_ns, expire_after_write_ns_);
  if (deadline_ns.has_value()) {
    e->variable_deadline_ns = *deadline_ns;
  } else if (ttl.has_value()) {
    e->variable_deadline_ns = DeadlineAfterNs(now_ns, DurationToNs(*ttl));
  } else if (expiry_ != nullptr) {
    const absl::Duration d =
        created ? expiry_->AfterCreate(e->key, e->value)
                : expiry_->AfterUpdate(e->key, e->value,
                                       Remaining(e->variable_deadline_ns, now_ns));
    e->variable_deadline_ns = DeadlineAfterNs(now_ns, DurationToNs(d));
  } else {
    e->variable_deadline_ns = kNever;
  }
  const int64_t access_deadline_ns = DeadlineAfterNs(now_ns, expire_after_access_ns_);
  UpdateTimer(e, std::min({e->write_deadline_ns, e->variable_deadline_ns, access_deadline_ns}));
}

void LocalCache::UpdateTimer(Entry* e, int64_t new_deadline_ns) {
  const bool scheduled = static_cast<ListHook<TimerTag>*>(e)->linked();
  if (scheduled && e->deadline_ns == new_deadline_ns) return;
  if (scheduled) wheel_.Unschedule(e);
  e->deadline_ns = new_deadline_ns;
  if (new_deadline_ns != kNever) wheel_.Schedule(e);
}

uint32_t LocalCache::WeightOf(std::string_view key, std::string_view value) const {
  return weigher_ ? weigher_(key, value) : 1;
}

void LocalCache::Put(std::string_view key, std::string_view value) {
  PutInternal(key, value, std::nullopt);
}

void LocalCache::Put(std::string_view key, std::string_view value, absl::Duration ttl) {
  PutInternal(key, value, ttl);
}

void LocalCache::PutInternal(std::string_view key, std::string_view value,
                             std::optional<absl::Duration> ttl,
                             std::optional<int64_t> deadline_ns) {
  AssertNotInListener();
  DrainReads();
  // From now on reads must look at the clock.
  if (ttl.has_value() || (deadline_ns.has_value() && *deadline_ns != kNever)) timed_ = true;
  const int64_t now_ns = Tick();
  const uint64_t hash = XXH3_64bits(key.data(), key.size());
  SupersedeLoad(key);
  const uint32_t weight = WeightOf(key, value);
  Entry* e = Find(key, hash);
  if (e != nullptr && timed_ && e->deadline_ns <= now_ns) {
    Remove(e, RemovalCause::kExpired);  // The old value died before this write replaced it.
    e = nullptr;
  }
  const bool created = e == nullptr;
  if (!created) {
    Notify(e->key, e->value, RemovalCause::kReplaced);
    ++stats_.removals_replaced;
    e->value.assign(value.data(), value.size());
    const int64_t delta = static_cast<int64_t>(weight) - e->weight;
    e->weight = weight;
    total_weight_ += delta;
    if (e->queue == Queue::kWindow) window_weight_ += delta;
    if (e->queue == Queue::kProtected) protected_weight_ += delta;
    Promote(e);  // A write counts as a use for recency (not for frequency).
  } else {
    e = new Entry;
    e->key.assign(key.data(), key.size());
    e->value.assign(value.data(), value.size());
    e->hash = hash;
    e->weight = weight;
    e->queue = Queue::kWindow;
    entries_.insert(e);
    window_.push_back(e);
    window_weight_ += weight;
    total_weight_ += weight;
  }
  SetDeadlinesOnWrite(e, now_ns, ttl, deadline_ns, created);
  if (timed_ && e->deadline_ns <= now_ns) Remove(e, RemovalCause::kExpired);
  if (deferred_eviction_) {
    AdmitWindowOverflowIfRoom();
  } else {
    Evict();
  }
}

bool LocalCache::Invalidate(std::string_view key) {
  AssertNotInListener();
  DrainReads();
  const int64_t now_ns = Tick();
  SupersedeLoad(key);
  Entry* e = Find(key, XXH3_64bits(key.data(), key.size()));
  if (e == nullptr) return false;
  const bool live = !(timed_ && e->deadline_ns <= now_ns);
  Remove(e, live ? RemovalCause::kExplicit : RemovalCause::kExpired);
  return live;
}

void LocalCache::InvalidateAll() {
  AssertNotInListener();
  for (auto& [key, load] : loads_) load->superseded = true;
  InvalidateIf([](std::string_view, std::string_view) { return true; });
}

int64_t LocalCache::InvalidateIf(
    absl::FunctionRef<bool(std::string_view key, std::string_view value)> predicate) {
  AssertNotInListener();
  DrainReads();
  const int64_t now_ns = Tick();
  std::vector<Entry*> expired;
  std::vector<Entry*> matching;
  for (const AccessList* list : {&window_, &probation_, &protected_}) {
    for (Entry* e = list->front(); e != nullptr; e = list->next(e)) {
      if (timed_ && e->deadline_ns <= now_ns) {
        expired.push_back(e);
      } else if (predicate(e->key, e->value)) {
        matching.push_back(e);
      }
    }
  }
  for (Entry* e : expired) Remove(e, RemovalCause::kExpired);
  for (Entry* e : matching) Remove(e, RemovalCause::kExplicit);
  return static_cast<int64_t>(matching.size());
}

LocalCache::AccessList& LocalCache::ListOf(Queue queue) {
  switch (queue) {
    case Queue::kWindow: return window_;
    case Queue::kProbation: return probation_;
    case Queue::kProtected: return protected_;
  }
  std::abort();
}

void LocalCache::Unlink(Entry* e) {
  ListOf(e->queue).remove(e);
  if (e->queue == Queue::kWindow) window_weight_ -= e->weight;
  if (e->queue == Queue::kProtected) protected_weight_ -= e->weight;
  total_weight_ -= e->weight;
  if (static_cast<ListHook<TimerTag>*>(e)->linked()) wheel_.Unschedule(e);
  entries_.erase(e);
}

void LocalCache::Remove(Entry* e, RemovalCause cause) {
  Unlink(e);
  switch (cause) {
    case RemovalCause::kExplicit: ++stats_.removals_explicit; break;
    case RemovalCause::kReplaced: ++stats_.removals_replaced; break;
    case RemovalCause::kExpired: ++stats_.removals_expired; break;
    case RemovalCause::kSize: ++stats_.removals_size; break;
  }
  Notify(e->key, e->value, cause);
  delete e;
}

void LocalCache::Notify(std::string_view key, std::string_view value, RemovalCause cause) {
  if (!listener_) return;
  in_listener_ = true;
  listener_(key, value, cause);
  in_listener_ = false;
}

void LocalCache::Promote(Entry* e) {
  switch (e->queue) {
    case Queue::kWindow:
      window_.move_to_back(e);
      return;
    case Queue::kProtected:
      protected_.move_to_back(e);
      DemoteProtectedOverflow();  // In case a write grew its weight.
      return;
    case Queue::kProbation:
      probation_.remove(e);
      e->queue = Queue::kProtected;
      protected_.push_back(e);
      protected_weight_ += e->weight;
      DemoteProtectedOverflow();
      return;
  }
}

void LocalCache::DemoteProtectedOverflow() {
  while (protected_weight_ > protected_max_weight_) {
    Entry* e = protected_.pop_front();
    if (e == nullptr) break;
    protected_weight_ -= e->weight;
    e->queue = Queue::kProbation;
    probation_.push_back(e);
  }
}

bool LocalCache::Admit(const Entry* candidate, const Entry* victim) {
  const int candidate_frequency = sketch_.Frequency(candidate->hash);
  const int victim_frequency = sketch_.Frequency(victim->hash);
  if (candidate_frequency > victim_frequency) return true;
  // An attacker who floods keys colliding with a hot victim could pin it forever; a rare random
  // admission of a frequent candidate breaks that (as in Caffeine).
  if (candidate_frequency < kAdmitLotteryFrequency) return false;
  return admission_random_.OneIn(kAdmitLotteryOdds);
}

void LocalCache::Evict() {
  // Window overflow moves to probation's most recent end; the first moved is the first candidate,
  // and candidates run from it to probation's back.
  Entry* candidate = nullptr;
  while (window_weight_ > window_max_weight_) {
    Entry* e = window_.pop_front();
    window_weight_ -= e->weight;
    e->queue = Queue::kProbation;
    probation_.push_back(e);
    tuner_.OnWindowExit();
    if (candidate == nullptr) candidate = e;
  }
  while (total_weight_ > max_weight_) {
    // The victim is the least recent entry of main that is not a candidate.
    Entry* victim = probation_.front();
    if (victim == candidate) victim = protected_.front();
    if (victim == nullptr) victim = window_.front();
    if (victim == nullptr) {
      // Only this call's candidates remain: they compete among themselves.
      victim = candidate;
      candidate = probation_.next(candidate);
    }
    if (candidate == nullptr) {
      Remove(victim, RemovalCause::kSize);
      continue;
    }
    if (candidate->weight > max_weight_ || !Admit(candidate, victim)) {
      Entry* loser = candidate;
      candidate = probation_.next(candidate);
      if (loser->weight <= max_weight_) {
        tuner_.OnLost(WindowTuner::Side::kWindow, loser->hash, loser->weight);
      }
      Remove(loser, RemovalCause::kSize);
    } else {
      tuner_.OnLost(victim->queue == Queue::kWindow ? WindowTuner::Side::kWindow
                                                    : WindowTuner::Side::kMain,
                    victim->hash, victim->weight);
      Remove(victim, RemovalCause::kSize);
    }
  }
}

void LocalCache::AdjustWindow(int64_t adjustment) {
  DrainReads();
  int transfers = 0;
  if (adjustment > 0) {
    window_max_weight_ += std::min(adjustment, max_weight_ - window_max_weight_);
    // Give the least recent main entries a place in the grown window rather than evicting them.
    while (transfers < kMaxQueueTransfers) {
      Entry* e = probation_.front();
      if (e == nullptr) e = protected_.front();
      if (e == nullptr || window_weight_ + e->weight > window_max_weight_) break;
      ListOf(e->queue).remove(e);
      if (e->queue == Queue::kProtected) protected_weight_ -= e->weight;
      e->queue = Queue::kWindow;
      window_.push_back(e);
      window_weight_ += e->weight;
      ++transfers;
    }
  } else {
    window_max_weight_ -= std::min(-adjustment, window_max_weight_);
    while (transfers < kMaxQueueTransfers && window_weight_ > window_max_weight_) {
      Entry* e = window_.pop_front();
      window_weight_ -= e->weight;
      e->queue = Queue::kProbation;
      probation_.push_back(e);
      tuner_.OnWindowExit();
      ++transfers;
    }
  }
  protected_max_weight_ = (max_weight_ - window_max_weight_) * kProtectedPercent / 100;
  DemoteProtectedOverflow();
}

std::optional<Queue> LocalCache::QueueOf(std::string_view key) const {
  DrainReadsLogicallyConst();
  const Entry* e = Find(key, XXH3_64bits(key.data(), key.size()));
  if (e == nullptr) return std::nullopt;
  return e->queue;
}

int LocalCache::Frequency(std::string_view key) const {
  return sketch_.Frequency(XXH3_64bits(key.data(), key.size()));
}

std::vector<std::string> LocalCache::KeysOf(Queue queue) const {
  DrainReadsLogicallyConst();
  const AccessList& list = const_cast<LocalCache*>(this)->ListOf(queue);
  std::vector<std::string> keys;
  for (Entry* e = list.front(); e != nullptr; e = list.next(e)) keys.push_back(e->key);
  return keys;
}

void LocalCache::CheckInvariants() const {
  DrainReadsLogicallyConst();
  CREMA_CACHE_CHECK(deferred_eviction_ || total_weight_ <= max_weight_);
  CREMA_CACHE_CHECK(window_max_weight_ >= 0 && window_max_weight_ <= max_weight_);
  int64_t count = 0;
  int64_t weights[3] = {0, 0, 0};
  int64_t timed_entries = 0;
  for (Queue q : {Queue::kWindow, Queue::kProbation, Queue::kProtected}) {
    const AccessList& list = const_cast<LocalCache*>(this)->ListOf(q);
    for (Entry* e = list.front(); e != nullptr; e = list.next(e)) {
      CREMA_CACHE_CHECK(e->queue == q);
      CREMA_CACHE_CHECK(Find(e->key, e->hash) == e);
      const bool scheduled = static_cast<const ListHook<TimerTag>*>(e)->linked();
      CREMA_CACHE_CHECK(scheduled == (e->deadline_ns != kNever));
      if (scheduled) ++timed_entries;
      weights[static_cast<int>(q)] += e->weight;
      ++count;
    }
  }
  CREMA_CACHE_CHECK(count == size());
  CREMA_CACHE_CHECK(timed_entries == wheel_.size());
  CREMA_CACHE_CHECK(weights[0] == window_weight_);
  CREMA_CACHE_CHECK(weights[2] == protected_weight_);
  CREMA_CACHE_CHECK(weights[0] + weights[1] + weights[2] == total_weight_);
}

}  // namespace crema::cache
