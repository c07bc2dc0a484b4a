// LocalCache's policy: the read batch (sketch counts, shadow simulations, window tuning and queue
// moves of buffered reads), promotion, admission and eviction, and window sizing.
#include <algorithm>
#include <cassert>
#include <cstdint>
#include <vector>

#include "cache/local_cache.h"
#include "cache/local_cache_internal.h"

namespace crema::cache {

using internal::Entry;

void LocalCache::DrainReads() {
  const int n = read_buffer_size_;
  if (n == 0) return;
  read_buffer_size_ = 0;  // Nothing appends while the batch is applied.
  // Start every memory access the batch will make before making the first, so that their cache
  // misses overlap instead of being paid one after another.
  for (int i = 0; i < n; ++i) {
    const PendingRead& read = read_buffer_[i];
    sketch_.Prefetch(read.hash);
    if (read.entry != nullptr) {
      const ListHook<internal::AccessTag>* hook = read.entry;
      __builtin_prefetch(hook->prev, 1);
      __builtin_prefetch(hook->next, 1);
    }
  }
  for (int i = 0; i < n; ++i) ApplyRead(read_buffer_[i]);
}

void LocalCache::ApplyRead(const PendingRead& read) {
  sketch_.Increment(read.hash);
  const bool hit = read.entry != nullptr;
  if (hit) Promote(read.entry);
  if (!adaptive_window_) return;
  switch (window_adaptation_) {
    case WindowAdaptation::kMiniSimulation:
      if (!hit) {
        // Fine tuning: a miss the window (or main) would have caught with a little more room
        // moves the target within the chosen configuration's bracket.
        const int64_t adjustment = tuner_->OnMiss(read.hash);
        if (adjustment != 0) {
          window_target_weight_ =
              std::clamp(window_target_weight_ + adjustment, fine_low_weight_, fine_high_weight_);
          StepWindowTowardsTarget();
        }
      }
      if (shadows_->Sampled(read.hash)) {
        if (shadows_->OnSampledRead(read.hash, sketch_)) {
          const PolicyConfig& chosen = shadows_->chosen();
          // A new configuration starts from its grid window; the same one keeps the fine
          // tuner's target (within the bracket).
          if (!(chosen == policy_) || fine_low_weight_ == fine_high_weight_) {
            window_target_weight_ = max_weight_ * chosen.window_permille / 1000;
          }
          policy_ = chosen;
          const WindowBracket bracket = BracketOf(chosen);
          fine_low_weight_ = max_weight_ * bracket.low_permille / 1000;
          fine_high_weight_ = max_weight_ * bracket.high_permille / 1000;
          window_target_weight_ =
              std::clamp(window_target_weight_, fine_low_weight_, fine_high_weight_);
        }
        StepWindowTowardsTarget();
      }
      return;
    case WindowAdaptation::kShadowQueues:
      if (!hit) {
        const int64_t adjustment = tuner_->OnMiss(read.hash);
        if (adjustment != 0) AdjustWindow(adjustment);
      }
      return;
    case WindowAdaptation::kHillClimbing: {
      const int64_t adjustment = climber_.Record(hit);
      if (adjustment != 0) AdjustWindow(adjustment);
      return;
    }
  }
}

void LocalCache::InsertNew(Entry* e, uint64_t hash) {
  StepWindowTowardsTarget();
  e->set_queue(Queue::kWindow);
  // A key met before competes for the main space at once (PolicyConfig::repeat_to_front).
  if (policy_.repeat_to_front && sketch_.Frequency(hash) >= kRepeatFrequency) {
    window_.push_front(e);
  } else {
    window_.push_back(e);
  }
  window_weight_ += e->weight();
}

void LocalCache::Promote(Entry* e) {
  const uint32_t weight = e->weight();
  switch (e->queue()) {
    case Queue::kWindow:
      switch (policy_.window_hit) {
        case WindowHit::kStay:
          window_.move_to_back(e);
          return;
        case WindowHit::kToProbation:
          window_.remove(e);
          window_weight_ -= weight;
          e->set_queue(Queue::kProbation);
          probation_.push_back(e);
          return;
        case WindowHit::kToProtected:
          window_.remove(e);
          window_weight_ -= weight;
          e->set_queue(Queue::kProtected);
          protected_.push_back(e);
          protected_weight_ += weight;
          DemoteProtectedOverflow();
          return;
      }
      return;
    case Queue::kProtected:
      protected_.move_to_back(e);
      DemoteProtectedOverflow();  // In case a write grew its weight.
      return;
    case Queue::kProbation:
      probation_.remove(e);
      e->set_queue(Queue::kProtected);
      protected_.push_back(e);
      protected_weight_ += weight;
      DemoteProtectedOverflow();
      return;
  }
}

void LocalCache::DemoteProtectedOverflow() {
  while (protected_weight_ > protected_max_weight_) {
    Entry* e = protected_.pop_front();
    if (e == nullptr) break;
    protected_weight_ -= e->weight();
    e->set_queue(Queue::kProbation);
    probation_.push_back(e);
  }
}

bool LocalCache::Admit(const Entry* candidate, const Entry* victim) {
  const int candidate_frequency = sketch_.Frequency(HashOf(candidate));
  const int victim_frequency = sketch_.Frequency(HashOf(victim));
  if (candidate_frequency > victim_frequency) return true;
  // An attacker who floods keys colliding with a hot victim could pin it forever; a rare random
  // admission of a frequent candidate breaks that (as in Caffeine).
  if (candidate_frequency < kAdmitLotteryFrequency) return false;
  return admission_random_.OneIn(kAdmitLotteryOdds);
}

void LocalCache::EvictForCapacity() {
  // The same plan as deferred eviction's dry run, applied at once: so both modes hold the same
  // entries in the same order after every write (local_cache_deferred_test).
  if (total_weight_ > max_weight_) {
    for (Entry* e : PlanEvictions(total_weight_ - max_weight_, SIZE_MAX)) EvictEntry(e, HashOf(e));
  }
  AdmitWindowOverflowIfRoom();
}

std::vector<Entry*> LocalCache::PlanEvictions(int64_t weight_to_free, size_t max_keys) {
  // Candidates: the window's least recent entries beyond its share, in order. Each duels the
  // least recent main entry that is not a candidate: probation first, then protected, then the
  // rest of the window, and finally the candidates that ran out of opponents. The loser of a duel
  // is evicted (TinyLFU: the less frequent; ties keep the victim).
  std::vector<Entry*> plan;
  if (weight_to_free <= 0 || max_keys == 0) return plan;
  std::vector<Entry*> candidates;
  int64_t window_weight = window_weight_;
  Entry* rest_of_window = window_.front();
  while (window_weight > window_max_weight_ && rest_of_window != nullptr) {
    candidates.push_back(rest_of_window);
    window_weight -= rest_of_window->weight();
    rest_of_window = window_.next(rest_of_window);
  }
  // Walks probation, protected, then the window from rest_of_window, without materialising them.
  int stage = 0;
  Entry* cursor = probation_.front();
  auto next_victim = [&]() -> Entry* {
    while (true) {
      if (cursor != nullptr) {
        Entry* victim = cursor;
        cursor = ListOf(victim->queue()).next(victim);
        return victim;
      }
      if (stage == 0) {
        cursor = protected_.front();
      } else if (stage == 1) {
        cursor = rest_of_window;
      } else {
        return nullptr;
      }
      ++stage;
    }
  };
  Entry* victim = next_victim();
  size_t next_candidate = 0;
  int64_t freed = 0;
  while (freed < weight_to_free && plan.size() < max_keys) {
    if (victim == nullptr) {
      if (next_candidate == candidates.size()) break;  // Nothing left at all.
      victim = candidates[next_candidate++];
    }
    Entry* candidate = next_candidate < candidates.size() ? candidates[next_candidate] : nullptr;
    Entry* loser;
    if (candidate != nullptr && (candidate->weight() > max_weight_ || !Admit(candidate, victim))) {
      loser = candidate;
      ++next_candidate;
    } else {
      loser = victim;
      victim = nullptr;
    }
    plan.push_back(loser);
    freed += loser->weight();
    if (victim == nullptr) victim = next_victim();
  }
  return plan;
}

void LocalCache::EvictEntry(Entry* e, uint64_t hash) {
  // An overflow entry leaves the window (as a candidate) and is lost by the window side.
  if (e->queue() == Queue::kWindow && window_weight_ > window_max_weight_) NoteWindowExit();
  if (e->weight() <= max_weight_) NoteLoss(e, hash, e->queue() == Queue::kWindow);
  Remove(e, RemovalCause::kSize);
}

void LocalCache::NoteLoss(const Entry* e, uint64_t hash, bool by_window) {
  if (tuner_ == nullptr) return;
  tuner_->OnLost(by_window ? WindowTuner::Side::kWindow : WindowTuner::Side::kMain, hash,
                 e->weight());
}

void LocalCache::StepWindowTowardsTarget() {
  if (window_max_weight_ == window_target_weight_) return;
  const int64_t most = std::max(kMaxWindowStep, max_weight_ / 1024);
  AdjustWindow(std::clamp(window_target_weight_ - window_max_weight_, -most, most));
}

void LocalCache::AdjustWindow(int64_t adjustment) {
  DrainReads();
  int transfers = 0;
  if (adjustment > 0) {
    window_max_weight_ += std::min(adjustment, max_weight_ - window_max_weight_);
    // Give the least recent main entries a place in the grown window rather than evicting them
    // when the window is an LRU (Caffeine's structure, and the other tuners). Not when window hits
    // move to main: that window holds only keys waiting for their second use, and a grown one
    // fills with new keys while the main space, over its share, loses its least recent entries
    // without duels, as a shadow of that configuration would. (Moving main entries in left a full
    // window of old entries in front of a full protected segment, a state no shadow reaches: on
    // the mixture shape at 20,000 entries, switching after two periods to the configuration the
    // shadows chose kept the hit ratio at 66.0% against 71.0% for it from the start.)
    const bool transfer = window_adaptation_ != WindowAdaptation::kMiniSimulation ||
                          policy_.window_hit == WindowHit::kStay;
    while (transfer && transfers < kMaxQueueTransfers) {
      Entry* e = probation_.front();
      if (e == nullptr) e = protected_.front();
      if (e == nullptr || window_weight_ + e->weight() > window_max_weight_) break;
      ListOf(e->queue()).remove(e);
      if (e->queue() == Queue::kProtected) protected_weight_ -= e->weight();
      e->set_queue(Queue::kWindow);
      window_.push_back(e);
      window_weight_ += e->weight();
      ++transfers;
    }
  } else {
    window_max_weight_ -= std::min(-adjustment, window_max_weight_);
    while (transfers < kMaxQueueTransfers && window_weight_ > window_max_weight_) {
      Entry* e = window_.pop_front();
      window_weight_ -= e->weight();
      e->set_queue(Queue::kProbation);
      probation_.push_back(e);
      NoteWindowExit();
      ++transfers;
    }
  }
  if (window_adaptation_ != WindowAdaptation::kMiniSimulation || !adaptive_window_) {
    window_target_weight_ = window_max_weight_;  // The other tuners steer the size directly.
  }
  protected_max_weight_ = (max_weight_ - window_max_weight_) * kProtectedPercent / 100;
  DemoteProtectedOverflow();
}

void LocalCache::AdmitWindowOverflowIfRoom() {
  while (window_weight_ > window_max_weight_ && total_weight_ <= max_weight_) {
    Entry* e = window_.pop_front();
    if (e == nullptr) break;
    window_weight_ -= e->weight();
    e->set_queue(Queue::kProbation);
    probation_.push_back(e);
    NoteWindowExit();
  }
}

}  // namespace crema::cache
