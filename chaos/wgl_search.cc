#include "chaos/wgl_search.h"

#include <algorithm>
#include <cassert>
#include <tuple>

#include "absl/container/flat_hash_map.h"
#include "node/random.h"

namespace crema::chaos::internal {
namespace {

// Memoized configurations: (bitset of linearized operations, model state), with the bitset's
// Zobrist hash maintained by the caller. Only membership is queried, so the hash map's iteration
// order never matters.
class ConfigCache {
 public:
  explicit ConfigCache(size_t words_per_set) : words_per_set_(words_per_set) {}

  // Inserts the configuration; false if it was already present.
  bool Insert(uint64_t set_hash, const std::vector<uint64_t>& set, int64_t state) {
    assert(set.size() == words_per_set_);
    const uint64_t key = set_hash ^ MixSeed(static_cast<uint64_t>(state) ^ kStateSalt);
    auto [it, inserted] = heads_.try_emplace(key, kNone);
    for (uint32_t e = it->second; e != kNone; e = next_[e]) {
      if (states_[e] == state &&
          std::equal(set.begin(), set.end(), bits_.begin() + size_t{e} * words_per_set_)) {
        return false;
      }
    }
    const auto entry = static_cast<uint32_t>(states_.size());
    states_.push_back(state);
    next_.push_back(it->second);
    bits_.insert(bits_.end(), set.begin(), set.end());
    it->second = entry;
    return true;
  }

  size_t entries() const { return states_.size(); }

  size_t ApproximateBytes() const {
    constexpr size_t kMapSlotBytes = sizeof(uint64_t) + sizeof(uint32_t) + 1;
    return bits_.capacity() * sizeof(uint64_t) + states_.capacity() * sizeof(int64_t) +
           next_.capacity() * sizeof(uint32_t) + heads_.capacity() * kMapSlotBytes;
  }

 private:
  static constexpr uint32_t kNone = UINT32_MAX;
  static constexpr uint64_t kStateSalt = 0x5bd1e9955bd1e995ULL;

  size_t words_per_set_;
  std::vector<uint64_t> bits_;  // entries() * words_per_set_ words.
  std::vector<int64_t> states_;
  std::vector<uint32_t> next_;  // Chain of entries with the same key.
  absl::flat_hash_map<uint64_t, uint32_t> heads_;
};

struct Event {
  int64_t time_ns;
  bool is_return;  // Calls sort before returns at equal times: ties count as concurrent.
  uint32_t op;
  bool operator<(const Event& o) const {
    return std::tie(time_ns, is_return, op) < std::tie(o.time_ns, o.is_return, o.op);
  }
};

struct Frame {
  uint32_t op;           // The operation linearized on entering this frame.
  int64_t prev_state;    // Model state before it.
  size_t prev_pending;   // Pending-return event index before it.
  bool forced;           // Taken by read-only pruning: no siblings to try.
};

class Search {
 public:
  Search(const std::vector<SearchOp>& ops, SequentialModel& model, const SearchBudget& budget)
      : ops_(ops),
        model_(model),
        budget_(budget),
        n_(static_cast<uint32_t>(ops.size())),
        linearized_((ops.size() + 63) / 64, 0),
        cache_(linearized_.size()) {
    assert(ops.size() < UINT32_MAX);
    BuildEvents();
    BuildCallList();
  }

  SearchOutcome Run();

 private:
  void BuildEvents();
  void BuildCallList();
  // The first event at or after `from` that returns an operation not yet linearized.
  size_t NextPendingReturn(size_t from) const;
  bool IsLinearized(uint32_t op) const { return (linearized_[op / 64] >> (op % 64)) & 1; }
  void FlipLinearized(uint32_t op) {
    linearized_[op / 64] ^= uint64_t{1} << (op % 64);
    set_hash_ ^= zobrist_[op];
  }
  bool IsCandidate(uint32_t op) const { return op != kHead && call_pos_[op] < pending_; }
  // Tries to enter the child configuration reached by linearizing `op` into `next_state`.
  // False if it was memoized already.
  bool Enter(uint32_t op, int64_t next_state, bool forced);
  // Undoes the top frame; returns it.
  Frame Leave();
  void RecordDeadEnd();
  bool OverBudget() const {
    return steps_ > budget_.max_steps || cache_.ApproximateBytes() > budget_.max_cache_bytes;
  }

  const std::vector<SearchOp>& ops_;
  SequentialModel& model_;
  const SearchBudget budget_;
  const uint32_t n_;
  const uint32_t kHead = n_;  // Sentinel of the circular call list.

  std::vector<Event> events_;
  std::vector<size_t> call_pos_;     // Event index of each operation's call.
  std::vector<uint32_t> next_, prev_;  // Unlinearized operations in call order (dancing links).
  std::vector<uint64_t> zobrist_;

  std::vector<uint64_t> linearized_;
  uint64_t set_hash_ = 0;
  int64_t state_ = 0;
  size_t pending_ = 0;  // Index of the earliest return event of an unlinearized operation.
  std::vector<Frame> stack_;
  ConfigCache cache_;
  uint64_t steps_ = 0;
  SearchOutcome outcome_;
  bool recorded_dead_end_ = false;
};

void Search::BuildEvents() {
  events_.reserve(2 * n_);
  for (uint32_t op = 0; op < n_; ++op) {
    events_.push_back({ops_[op].call_ns, false, op});
    if (ops_[op].determinate) {
      assert(ops_[op].return_ns >= ops_[op].call_ns);
      events_.push_back({ops_[op].return_ns, true, op});
    }
  }
  std::sort(events_.begin(), events_.end());
  call_pos_.assign(n_, 0);
  for (size_t e = 0; e < events_.size(); ++e) {
    if (!events_[e].is_return) call_pos_[events_[e].op] = e;
  }
  zobrist_.resize(n_);
  for (uint32_t op = 0; op < n_; ++op) zobrist_[op] = MixSeed(0x9e3779b97f4a7c15ULL * (op + 1));
}

void Search::BuildCallList() {
  next_.assign(n_ + 1, kHead);
  prev_.assign(n_ + 1, kHead);
  uint32_t last = kHead;
  for (const Event& e : events_) {
    if (e.is_return) continue;
    next_[last] = e.op;
    prev_[e.op] = last;
    last = e.op;
  }
  next_[last] = kHead;
  prev_[kHead] = last;
}

size_t Search::NextPendingReturn(size_t from) const {
  size_t e = from;
  while (e < events_.size() && (!events_[e].is_return || IsLinearized(events_[e].op))) ++e;
  return e;
}

bool Search::Enter(uint32_t op, int64_t next_state, bool forced) {
  FlipLinearized(op);
  if (!cache_.Insert(set_hash_, linearized_, next_state)) {
    FlipLinearized(op);
    return false;
  }
  stack_.push_back({op, state_, pending_, forced});
  next_[prev_[op]] = next_[op];  // Lift op out of the call list.
  prev_[next_[op]] = prev_[op];
  state_ = next_state;
  if (events_[pending_].op == op) pending_ = NextPendingReturn(pending_ + 1);
  return true;
}

Frame Search::Leave() {
  assert(!stack_.empty());
  const Frame frame = stack_.back();
  stack_.pop_back();
  next_[prev_[frame.op]] = frame.op;  // Put it back (LIFO order keeps its links valid).
  prev_[next_[frame.op]] = frame.op;
  FlipLinearized(frame.op);
  state_ = frame.prev_state;
  pending_ = frame.prev_pending;
  return frame;
}

void Search::RecordDeadEnd() {
  if (recorded_dead_end_ && stack_.size() <= outcome_.longest_prefix.size()) return;
  recorded_dead_end_ = true;
  outcome_.longest_prefix.clear();
  for (const Frame& f : stack_) outcome_.longest_prefix.push_back(f.op);
  outcome_.state_after_prefix = state_;
  outcome_.blocked = events_[pending_].op;
  outcome_.candidates.clear();
  for (uint32_t e = next_[kHead]; IsCandidate(e); e = next_[e]) outcome_.candidates.push_back(e);
}

SearchOutcome Search::Run() {
  state_ = model_.InitialState();
  pending_ = NextPendingReturn(0);
  uint32_t resume = next_[kHead];  // Next sibling to try at the current configuration.
  bool fresh = true;               // The current configuration has not tried any child yet.
  while (true) {
    if (pending_ == events_.size()) {
      outcome_.verdict = SearchVerdict::kLinearizable;
      break;
    }
    if (OverBudget()) {
      outcome_.verdict = SearchVerdict::kUnknown;
      break;
    }
    bool entered = false;
    bool dead = false;
    if (fresh) {
      // Read-only pruning: a legal read-only candidate goes next, with no alternatives.
      for (uint32_t e = next_[kHead]; IsCandidate(e); e = next_[e]) {
        if (!model_.IsReadOnly(e)) continue;
        ++steps_;
        const int64_t next_state = model_.Step(state_, e);
        if (next_state == kIllegalStep) continue;
        entered = Enter(e, next_state, /*forced=*/true);
        dead = !entered;
        break;
      }
    }
    if (!entered && !dead) {
      for (uint32_t e = resume; IsCandidate(e); e = next_[e]) {
        if (model_.IsReadOnly(e)) continue;  // Known illegal here, or we would have forced it.
        ++steps_;
        const int64_t next_state = model_.Step(state_, e);
        if (next_state == kIllegalStep) continue;
        if (Enter(e, next_state, /*forced=*/false)) {
          entered = true;
          break;
        }
      }
    }
    if (entered) {
      resume = next_[kHead];
      fresh = true;
      continue;
    }
    RecordDeadEnd();
    // Backtrack to the nearest configuration that still has siblings to try.
    bool exhausted = true;
    while (!stack_.empty()) {
      const Frame frame = Leave();
      if (!frame.forced) {
        resume = next_[frame.op];
        fresh = false;
        exhausted = false;
        break;
      }
    }
    if (exhausted) {
      outcome_.verdict = SearchVerdict::kNotLinearizable;
      break;
    }
  }
  outcome_.steps = steps_;
  outcome_.cache_entries = cache_.entries();
  if (outcome_.verdict != SearchVerdict::kNotLinearizable) {
    outcome_.longest_prefix.clear();
    outcome_.candidates.clear();
  }
  return outcome_;
}

}  // namespace

SearchOutcome SearchLinearization(const std::vector<SearchOp>& ops, SequentialModel& model,
                                  const SearchBudget& budget) {
  Search search(ops, model, budget);
  return search.Run();
}

}  // namespace crema::chaos::internal
