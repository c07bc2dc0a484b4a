#include "chaos/wgl_search.h"

#include <algorithm>
#include <cassert>
#include <tuple>

#include "chaos/config_cache.h"
#include "node/random.h"

namespace crema::chaos::internal {
namespace {

constexpr uint32_t kNone = UINT32_MAX;

struct Event {
  int64_t time_ns;
  bool is_return;  // Calls sort before returns at equal times: ties count as concurrent.
  uint32_t op;     // Caller's operation index.
  bool operator<(const Event& o) const {
    return std::tie(time_ns, is_return, op) < std::tie(o.time_ns, o.is_return, o.op);
  }
};

struct Frame {
  uint32_t op;          // Internal id of the operation linearized on entering this frame.
  int64_t prev_state;   // Model state before it.
  size_t prev_pending;  // Pending-return event index before it.
  bool forced;          // Taken by read-only pruning: no siblings to try.
};

// One search. Internal operation ids number determinate operations in return order, then
// indeterminate ones in call order (see config_cache.h for why). Unlinearized operations sit in
// a call-ordered doubly linked list, lifted out while linearized and put back on backtracking
// (dancing links). At each configuration the candidates are tried just in time (Lowe): first
// the operation whose return is pending, then the others in call order.
class Search {
 public:
  Search(const std::vector<SearchOp>& ops, SequentialModel& model, const SearchBudget& budget);
  SearchOutcome Run();

 private:
  void BuildEvents(const std::vector<SearchOp>& ops);
  void BuildCallLists();
  size_t NextPendingReturn(size_t from) const;
  bool IsLinearized(uint32_t id) const { return (linearized_[id / 64] >> (id % 64)) & 1; }
  void FlipLinearized(uint32_t id) {
    linearized_[id / 64] ^= uint64_t{1} << (id % 64);
    set_hash_ ^= zobrist_[id];
  }
  // Candidates are the unlinearized operations called before the pending return event; the
  // operation of that return comes first.
  uint32_t Blocked() const { return internal_[events_[pending_].op]; }
  uint32_t FirstCandidate() const { return Blocked(); }
  uint32_t NextCandidate(uint32_t id) const;
  // `e` if it is a list element called before the pending return, else kNone.
  uint32_t IfCalled(uint32_t e) const {
    return e == kHead || call_pos_[e] >= pending_ ? kNone : e;
  }
  int64_t Step(uint32_t id) {
    ++steps_;
    return model_.Step(state_, external_[id]);
  }
  bool Enter(uint32_t id, int64_t next_state, bool forced);
  Frame Leave();
  void RecordDeadEnd();
  bool OverBudget() const {
    return steps_ > budget_.max_steps || cache_.ApproximateBytes() > budget_.max_cache_bytes;
  }

  SequentialModel& model_;
  const SearchBudget budget_;
  const uint32_t n_;
  const uint32_t kHead = n_;  // Sentinel of the circular call list.

  std::vector<Event> events_;
  std::vector<uint32_t> internal_;  // Caller's index -> internal id.
  std::vector<uint32_t> external_;  // Internal id -> caller's index.
  std::vector<size_t> call_pos_;    // By internal id: event index of the call.
  std::vector<uint32_t> next_, prev_;
  std::vector<uint64_t> zobrist_;

  std::vector<uint64_t> linearized_;  // Bitset by internal id.
  uint64_t set_hash_ = 0;
  int64_t state_ = 0;
  size_t pending_ = 0;  // Event index of the earliest return of an unlinearized operation.
  std::vector<Frame> stack_;
  ConfigCache cache_;
  uint64_t steps_ = 0;
  SearchOutcome outcome_;
  bool recorded_dead_end_ = false;
};

Search::Search(const std::vector<SearchOp>& ops, SequentialModel& model,
               const SearchBudget& budget)
    : model_(model),
      budget_(budget),
      n_(static_cast<uint32_t>(ops.size())),
      linearized_((ops.size() + 63) / 64, 0) {
  assert(ops.size() < kNone - 1);
  BuildEvents(ops);
  BuildCallLists();
}

void Search::BuildEvents(const std::vector<SearchOp>& ops) {
  events_.reserve(2 * n_);
  for (uint32_t op = 0; op < n_; ++op) {
    events_.push_back({ops[op].call_ns, false, op});
    if (ops[op].determinate) {
      assert(ops[op].return_ns >= ops[op].call_ns);
      events_.push_back({ops[op].return_ns, true, op});
    }
  }
  std::sort(events_.begin(), events_.end());
  // Determinate operations in return order, then indeterminate ones in call order.
  for (const Event& e : events_) {
    if (e.is_return) external_.push_back(e.op);
  }
  for (const Event& e : events_) {
    if (!e.is_return && !ops[e.op].determinate) external_.push_back(e.op);
  }
  assert(external_.size() == n_);
  internal_.assign(n_, 0);
  for (uint32_t id = 0; id < n_; ++id) internal_[external_[id]] = id;
  call_pos_.assign(n_, 0);
  for (size_t e = 0; e < events_.size(); ++e) {
    if (!events_[e].is_return) call_pos_[internal_[events_[e].op]] = e;
  }
  zobrist_.resize(n_);
  for (uint32_t id = 0; id < n_; ++id) zobrist_[id] = MixSeed(0x9e3779b97f4a7c15ULL * (id + 1));
}

void Search::BuildCallLists() {
  next_.assign(n_ + 1, kNone);
  prev_.assign(n_ + 1, kNone);
  uint32_t last = kHead;
  for (const Event& e : events_) {
    if (e.is_return) continue;
    const uint32_t id = internal_[e.op];
    next_[last] = id;
    prev_[id] = last;
    last = id;
  }
  next_[last] = kHead;
  prev_[kHead] = last;
}

uint32_t Search::NextCandidate(uint32_t id) const {
  const uint32_t blocked = Blocked();
  uint32_t e = IfCalled(id == blocked ? next_[kHead] : next_[id]);
  if (e == blocked) e = IfCalled(next_[e]);
  return e;
}

size_t Search::NextPendingReturn(size_t from) const {
  size_t e = from;
  while (e < events_.size() &&
         (!events_[e].is_return || IsLinearized(internal_[events_[e].op]))) {
    ++e;
  }
  return e;
}

bool Search::Enter(uint32_t id, int64_t next_state, bool forced) {
  FlipLinearized(id);
  if (!cache_.Insert(set_hash_, linearized_, next_state)) {
    FlipLinearized(id);
    return false;
  }
  stack_.push_back({id, state_, pending_, forced});
  next_[prev_[id]] = next_[id];  // Lift it out of its call list.
  prev_[next_[id]] = prev_[id];
  state_ = next_state;
  if (internal_[events_[pending_].op] == id) pending_ = NextPendingReturn(pending_ + 1);
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
  for (const Frame& f : stack_) outcome_.longest_prefix.push_back(external_[f.op]);
  outcome_.state_after_prefix = state_;
  outcome_.blocked = events_[pending_].op;
  outcome_.candidates.clear();
  for (uint32_t e = FirstCandidate(); e != kNone; e = NextCandidate(e)) {
    outcome_.candidates.push_back(external_[e]);
  }
  std::sort(outcome_.candidates.begin(), outcome_.candidates.end());
}

SearchOutcome Search::Run() {
  state_ = model_.InitialState();
  pending_ = NextPendingReturn(0);
  uint32_t resume = kNone;  // When !fresh: the next sibling to try at this configuration.
  bool fresh = true;        // The current configuration has tried no child yet.
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
      for (uint32_t e = FirstCandidate(); e != kNone; e = NextCandidate(e)) {
        if (!model_.IsReadOnly(external_[e])) continue;
        const int64_t next_state = Step(e);
        if (next_state == kIllegalStep) continue;
        entered = Enter(e, next_state, /*forced=*/true);
        dead = !entered;
        break;
      }
    }
    if (!entered && !dead) {
      for (uint32_t e = fresh ? FirstCandidate() : resume; e != kNone; e = NextCandidate(e)) {
        // Read-only candidates are illegal here, or we would have forced one.
        if (model_.IsReadOnly(external_[e])) continue;
        const int64_t next_state = Step(e);
        if (next_state != kIllegalStep && Enter(e, next_state, /*forced=*/false)) {
          entered = true;
          break;
        }
      }
    }
    if (entered) {
      fresh = true;
      continue;
    }
    RecordDeadEnd();
    // Backtrack to the nearest configuration that still has siblings to try.
    bool exhausted = true;
    while (!stack_.empty()) {
      const Frame frame = Leave();
      if (!frame.forced) {
        resume = NextCandidate(frame.op);
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
