// LocalCache: construction, reads, writes, expiry, removal and introspection. The policy (read
// batches, promotion, eviction, window sizing) is in local_cache_policy.cc; deferred eviction and
// absolute deadlines in local_cache_deferred.cc; loading in local_cache_loading.cc.
#include "cache/local_cache.h"

#include <algorithm>
#include <cassert>
#include <cstdio>
#include <cstdlib>
#include <utility>

#include "cache/local_cache_internal.h"
// XXH3 compiled into this file (the same function as libxxhash's, so the same hashes): a call into
// the shared library cost ~5% of a hit.
#define XXH_INLINE_ALL
#include "xxhash.h"

namespace crema::cache {
namespace {

using internal::DeadlineAfterNs;
using internal::Entry;
using internal::kNever;
using internal::TimerBlock;

int64_t DurationToNs(absl::Duration d) {
  if (d == absl::InfiniteDuration()) return kNever;
  return absl::ToInt64Nanoseconds(d);  // Saturates.
}

absl::Duration Remaining(int64_t deadline_ns, int64_t now_ns) {
  if (deadline_ns == kNever) return absl::InfiniteDuration();
  return absl::Nanoseconds(deadline_ns - now_ns);
}

bool IsFinite(absl::Duration d) { return d != absl::InfiniteDuration(); }

// The sketch and shadows are sized in entries; with a weigher the entry count is unknown, so
// size them for max_weight entries, capped (128 MiB of sketch would be silly for a byte-weighted
// cache).
int64_t CapacityEntries(const CacheOptions& options) {
  return std::min<int64_t>(std::max<int64_t>(options.max_weight, 1), int64_t{1} << 24);
}

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

uint64_t LocalCache::HashOf(std::string_view key) { return XXH3_64bits(key.data(), key.size()); }

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
      window_adaptation_(options.window_adaptation),
      deferred_eviction_(options.eviction == EvictionMode::kDeferred),
      timed_(IsFinite(options.expire_after_write) || IsFinite(options.expire_after_access) ||
             expiry_ != nullptr),
      // The index grows to what max_weight entries need, no further (unless weights are < 1).
      index_(options.admission_seed, CapacityEntries(options)),
      window_max_weight_(options.max_weight * options.initial_window_percent / 100),
      protected_max_weight_(0),
      window_target_weight_(window_max_weight_),
      fine_low_weight_(window_max_weight_),
      fine_high_weight_(window_max_weight_),
      sketch_(CapacityEntries(options)),
      climber_(std::max<int64_t>(options.max_weight, 1),
               options.climber_sample_size > 0
                   ? options.climber_sample_size
                   : FrequencySketch::kSampleSizePerEntry * std::max<int64_t>(options.max_weight, 1)),
      admission_random_(options.admission_seed) {
  CREMA_CACHE_CHECK(max_weight_ > 0);
  CREMA_CACHE_CHECK(options.initial_window_percent >= 0 && options.initial_window_percent <= 100);
  protected_max_weight_ = (max_weight_ - window_max_weight_) * kProtectedPercent / 100;
  if (adaptive_window_ && window_adaptation_ == WindowAdaptation::kMiniSimulation) {
    shadows_ = std::make_unique<PolicyShadows>(CapacityEntries(options));
    tuner_ = std::make_unique<WindowTuner>(CapacityEntries(options), kFineTunerMaxRecords);
  }
  if (adaptive_window_ && window_adaptation_ == WindowAdaptation::kShadowQueues) {
    tuner_ = std::make_unique<WindowTuner>(CapacityEntries(options));
  }
}

LocalCache::~LocalCache() {
  // Fail in-flight loads in key order (deterministic), then free entries without notifying.
  std::vector<std::shared_ptr<internal::PendingLoad>> loads;
  for (auto& [key, load] : loads_) loads.push_back(load);
  std::sort(loads.begin(), loads.end(),
            [](const auto& a, const auto& b) { return a->key < b->key; });
  loads_.clear();
  read_buffer_size_ = 0;  // The entries are freed below; their bookkeeping no longer matters.
  for (auto& load : loads) {
    load->cache = nullptr;
    std::vector<LoadDone> waiters = std::move(load->waiters);
    for (LoadDone& done : waiters) done(absl::CancelledError("cache destroyed during load"));
  }
  for (AccessList* list : {&window_, &probation_, &protected_}) {
    while (Entry* e = list->pop_front()) {
      if (e->has_timer() && e->timer()->linked()) wheel_.Unschedule(e->timer());
      Entry::Destroy(e);
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
  wheel_.Advance(now_ns, [this](TimerNode* node) {
    Remove(Entry::FromTimer(node), RemovalCause::kExpired);
  });
  return now_ns;
}

void LocalCache::RunPendingTasks() {
  AssertNotInListener();
  if (!timed_) return;
  DrainReads();
  wheel_.ExpireDue(NowNs(), [this](TimerNode* node) {
    Remove(Entry::FromTimer(node), RemovalCause::kExpired);
  });
}

ValuePtr LocalCache::GetIfPresent(std::string_view key) {
  const Entry* e = GetEntry(key);
  return e == nullptr ? nullptr : ValuePtr(e->value());
}

ValuePtr LocalCache::GetIfPresent(std::string_view key, absl::Time* deadline) {
  const Entry* e = GetEntry(key);
  if (e == nullptr) return nullptr;
  *deadline = FromEntryNs(e->deadline_ns());
  return ValuePtr(e->value());
}

const internal::Entry* LocalCache::GetEntry(std::string_view key) {
  AssertNotInListener();
  const uint64_t hash = HashOf(key);
  const int64_t now_ns = Tick();
  Entry* e = index_.Find(hash, key);
  if (e == nullptr || (timed_ && e->deadline_ns() <= now_ns)) {
    if (e != nullptr) {
      DrainReads();
      Remove(e, RemovalCause::kExpired);
    }
    ++stats_.misses;
    RecordRead(hash, nullptr);
    return nullptr;
  }
  ++stats_.hits;
  OnHit(e, hash, now_ns);
  return e;
}

std::optional<std::string> LocalCache::Get(std::string_view key) {
  const ValuePtr value = GetIfPresent(key);
  if (!value) return std::nullopt;
  return std::string(*value);
}

void LocalCache::OnHit(Entry* e, uint64_t hash, int64_t now_ns) {
  RecordRead(hash, e);
  if (expire_after_access_ns_ == kNever && expiry_ == nullptr) return;
  // Time-to-idle and Expiry::AfterRead act now, after the reads before this one.
  DrainReads();
  // An entry without a timer block has no finite deadline, and a read does not give it one
  // (Expiry::AfterRead is asked only about finite deadlines).
  if (!e->has_timer()) return;
  TimerBlock* t = e->timer();
  if (expiry_ != nullptr && t->variable_deadline_ns != kNever) {
    const absl::Duration next =
        expiry_->AfterRead(e->key(), e->value(), Remaining(t->variable_deadline_ns, now_ns));
    t->variable_deadline_ns = DeadlineAfterNs(now_ns, DurationToNs(next));
  }
  UpdateTimer(e, std::min({t->write_deadline_ns, t->variable_deadline_ns,
                           DeadlineAfterNs(now_ns, expire_after_access_ns_)}));
}

void LocalCache::UpdateTimer(Entry* e, int64_t new_deadline_ns) {
  TimerBlock* t = e->timer();
  const bool scheduled = t->linked();
  if (scheduled && t->deadline_ns == new_deadline_ns) return;
  if (scheduled) wheel_.Unschedule(t);
  t->deadline_ns = new_deadline_ns;
  if (new_deadline_ns != kNever) wheel_.Schedule(t);
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

Entry* LocalCache::MoveEntry(Entry* e, uint64_t hash, std::string_view value, bool timer) {
  assert(read_buffer_size_ == 0);
  Entry* copy = Entry::CloneWith(e, value, timer);
  ListOf(e->queue()).replace(e, copy);
  if (e->has_timer() && e->timer()->linked()) wheel_.Replace(e->timer(), copy->timer());
  index_.Replace(hash, e, copy);
  Entry::Destroy(e);
  return copy;
}

void LocalCache::PutInternal(std::string_view key, std::string_view value,
                             std::optional<absl::Duration> ttl,
                             std::optional<int64_t> deadline_ns) {
  AssertNotInListener();
  DrainReads();
  // From now on reads must look at the clock.
  if (ttl.has_value() || (deadline_ns.has_value() && *deadline_ns != kNever)) timed_ = true;
  const int64_t now_ns = Tick();
  const uint64_t hash = HashOf(key);
  SupersedeLoad(key);
  const uint32_t weight = WeightOf(key, value);
  Entry* e = index_.Find(hash, key);
  if (e != nullptr && timed_ && e->deadline_ns() <= now_ns) {
    Remove(e, RemovalCause::kExpired);  // The old value died before this write replaced it.
    e = nullptr;
  }
  // The new deadlines, before anything changes (the Expiry policy sees the old remaining time).
  const int64_t write_deadline_ns = DeadlineAfterNs(now_ns, expire_after_write_ns_);
  int64_t variable_deadline_ns = kNever;
  if (deadline_ns.has_value()) {
    variable_deadline_ns = *deadline_ns;
  } else if (ttl.has_value()) {
    variable_deadline_ns = DeadlineAfterNs(now_ns, DurationToNs(*ttl));
  } else if (expiry_ != nullptr) {
    const absl::Duration d =
        e == nullptr
            ? expiry_->AfterCreate(key, value)
            : expiry_->AfterUpdate(
                  key, value,
                  Remaining(e->has_timer() ? e->timer()->variable_deadline_ns : kNever, now_ns));
    variable_deadline_ns = DeadlineAfterNs(now_ns, DurationToNs(d));
  }
  const int64_t access_deadline_ns = DeadlineAfterNs(now_ns, expire_after_access_ns_);
  const bool needs_timer = std::min({write_deadline_ns, variable_deadline_ns,
                                     access_deadline_ns}) != kNever;
  if (e != nullptr) {
    Notify(e->key(), e->value(), RemovalCause::kReplaced);
    ++stats_.removals_replaced;
    if (!e->ValueFits(value.size()) || (needs_timer && !e->has_timer())) {
      e = MoveEntry(e, hash, value, needs_timer);
    } else {
      e->SetValue(value);
    }
    const int64_t delta = static_cast<int64_t>(weight) - e->weight();
    if (weigher_) e->set_weight(weight);
    total_weight_ += delta;
    if (e->queue() == Queue::kWindow) window_weight_ += delta;
    if (e->queue() == Queue::kProtected) protected_weight_ += delta;
    Promote(e);  // A write counts as a use for recency (not for frequency).
  } else {
    e = Entry::Create(key, value, weight, Entry::Layout{.weight = static_cast<bool>(weigher_),
                                                        .timer = needs_timer});
    index_.Insert(hash, e, [](const Entry* x) { return HashOf(x); });
    total_weight_ += weight;
    InsertNew(e, hash);
  }
  if (e->has_timer()) {
    SetDeadlines(e, write_deadline_ns, variable_deadline_ns, access_deadline_ns);
    if (e->deadline_ns() <= now_ns) Remove(e, RemovalCause::kExpired);
  }
  if (deferred_eviction_) {
    AdmitWindowOverflowIfRoom();
  } else {
    EvictForCapacity();
  }
}

void LocalCache::SetDeadlines(Entry* e, int64_t write_deadline_ns, int64_t variable_deadline_ns,
                              int64_t access_deadline_ns) {
  TimerBlock* t = e->timer();
  t->write_deadline_ns = write_deadline_ns;
  t->variable_deadline_ns = variable_deadline_ns;
  UpdateTimer(e, std::min({write_deadline_ns, variable_deadline_ns, access_deadline_ns}));
}

bool LocalCache::Invalidate(std::string_view key) {
  AssertNotInListener();
  DrainReads();
  const int64_t now_ns = Tick();
  SupersedeLoad(key);
  Entry* e = index_.Find(HashOf(key), key);
  if (e == nullptr) return false;
  const bool live = !(timed_ && e->deadline_ns() <= now_ns);
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
      if (timed_ && e->deadline_ns() <= now_ns) {
        expired.push_back(e);
      } else if (predicate(e->key(), e->value())) {
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

void LocalCache::Unlink(Entry* e, uint64_t hash) {
  ListOf(e->queue()).remove(e);
  const uint32_t weight = e->weight();
  if (e->queue() == Queue::kWindow) window_weight_ -= weight;
  if (e->queue() == Queue::kProtected) protected_weight_ -= weight;
  total_weight_ -= weight;
  if (e->has_timer() && e->timer()->linked()) wheel_.Unschedule(e->timer());
  index_.Erase(hash, e);
}

void LocalCache::Remove(Entry* e, RemovalCause cause) {
  Unlink(e, HashOf(e));
  switch (cause) {
    case RemovalCause::kExplicit: ++stats_.removals_explicit; break;
    case RemovalCause::kReplaced: ++stats_.removals_replaced; break;
    case RemovalCause::kExpired: ++stats_.removals_expired; break;
    case RemovalCause::kSize: ++stats_.removals_size; break;
  }
  Notify(e->key(), e->value(), cause);
  Entry::Destroy(e);
}

void LocalCache::Notify(std::string_view key, std::string_view value, RemovalCause cause) {
  if (!listener_) return;
  in_listener_ = true;
  listener_(key, value, cause);
  in_listener_ = false;
}

std::optional<Queue> LocalCache::QueueOf(std::string_view key) const {
  DrainReadsLogicallyConst();
  const Entry* e = index_.Find(HashOf(key), key);
  if (e == nullptr) return std::nullopt;
  return e->queue();
}

int LocalCache::Frequency(std::string_view key) const {
  DrainReadsLogicallyConst();
  return sketch_.Frequency(HashOf(key));
}

std::vector<std::string> LocalCache::KeysOf(Queue queue) const {
  DrainReadsLogicallyConst();
  const AccessList& list = ListOf(queue);
  std::vector<std::string> keys;
  for (Entry* e = list.front(); e != nullptr; e = list.next(e)) keys.emplace_back(e->key());
  return keys;
}

size_t LocalCache::PolicyMemoryBytes() const {
  return sketch_.memory_bytes() + index_.memory_bytes() +
         (shadows_ != nullptr ? shadows_->memory_bytes() : 0) +
         (tuner_ != nullptr ? tuner_->memory_bytes() : 0);
}

void LocalCache::CheckInvariants() const {
  DrainReadsLogicallyConst();
  CREMA_CACHE_CHECK(deferred_eviction_ || total_weight_ <= max_weight_);
  CREMA_CACHE_CHECK(window_max_weight_ >= 0 && window_max_weight_ <= max_weight_);
  CREMA_CACHE_CHECK(window_target_weight_ >= 0 && window_target_weight_ <= max_weight_);
  int64_t count = 0;
  int64_t weights[3] = {0, 0, 0};
  int64_t timed_entries = 0;
  for (Queue q : {Queue::kWindow, Queue::kProbation, Queue::kProtected}) {
    const AccessList& list = ListOf(q);
    for (Entry* e = list.front(); e != nullptr; e = list.next(e)) {
      CREMA_CACHE_CHECK(e->queue() == q);
      CREMA_CACHE_CHECK(index_.Find(HashOf(e), e->key()) == e);
      const bool scheduled = e->has_timer() && e->timer()->linked();
      CREMA_CACHE_CHECK(scheduled == (e->deadline_ns() != kNever));
      if (scheduled) ++timed_entries;
      weights[static_cast<int>(q)] += e->weight();
      ++count;
    }
  }
  CREMA_CACHE_CHECK(count == size());
  CREMA_CACHE_CHECK(timed_entries == wheel_.size());
  CREMA_CACHE_CHECK(weights[0] == window_weight_);
  CREMA_CACHE_CHECK(weights[2] == protected_weight_);
  CREMA_CACHE_CHECK(weights[0] + weights[1] + weights[2] == total_weight_);
  CREMA_CACHE_CHECK(index_.Valid([](const Entry* x) { return HashOf(x); }));
}

}  // namespace crema::cache
