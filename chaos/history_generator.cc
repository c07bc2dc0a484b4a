#include "chaos/history_generator.h"

#include <algorithm>
#include <cassert>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"

namespace crema::chaos {
namespace {

// When an operation takes effect in the atomic store, if at all.
struct Plan {
  bool applies = true;
  int64_t effect_ns = 0;
};

OpKind PickKind(const AtomicHistoryOptions& o, Random& random) {
  const int total = o.put_weight + o.get_weight + o.delete_weight + o.cas_weight;
  assert(total > 0);
  int64_t x = random.Range(0, total - 1);
  if ((x -= o.put_weight) < 0) return OpKind::kPut;
  if ((x -= o.get_weight) < 0) return OpKind::kGet;
  if ((x -= o.delete_weight) < 0) return OpKind::kDelete;
  return OpKind::kCas;
}

// Generates the operations' shapes and timing; values and results are filled in later.
void PlanOperations(const AtomicHistoryOptions& o, Random& random, History& ops,
                    std::vector<Plan>& plans) {
  std::vector<int64_t> free_at_ns(o.clients, 0);
  std::vector<int64_t> client_id(o.clients);
  for (int c = 0; c < o.clients; ++c) client_id[c] = c;
  for (int i = 0; i < o.operations; ++i) {
    // The client that is free first goes next (ties: lowest slot), so invocations are ordered.
    const int slot = static_cast<int>(
        std::min_element(free_at_ns.begin(), free_at_ns.end()) - free_at_ns.begin());
    Operation op;
    op.client = client_id[slot];
    op.kind = PickKind(o, random);
    op.key = absl::StrCat("k", random.Uniform(o.keys));
    op.invoke_ns = free_at_ns[slot] + random.Range(0, o.max_think_ns);
    Plan plan;
    if (o.indeterminate_one_in > 0 && random.OneIn(o.indeterminate_one_in)) {
      op.outcome = Outcome::kIndeterminate;
      plan.applies = random.OneIn(2);
      plan.effect_ns = op.invoke_ns + random.Range(0, 2 * o.timeout_ns);
      free_at_ns[slot] = op.invoke_ns + o.timeout_ns;
      client_id[slot] += o.clients;  // A new process takes over, as in Jepsen.
    } else {
      const int64_t return_ns = op.invoke_ns + random.Range(o.min_latency_ns, o.max_latency_ns);
      op.return_ns = return_ns;
      if (o.error_one_in > 0 && random.OneIn(o.error_one_in)) {
        op.outcome = Outcome::kError;
        plan.applies = false;
      } else {
        plan.effect_ns = random.Range(op.invoke_ns, return_ns);
      }
      free_at_ns[slot] = return_ns;
    }
    ops.push_back(std::move(op));
    plans.push_back(plan);
  }
}

class AtomicStore {
 public:
  AtomicStore(const AtomicHistoryOptions& options, Random& random)
      : options_(options), random_(random) {}

  std::string NewValue() {
    if (options_.value_domain > 0) return absl::StrCat("v", random_.Uniform(options_.value_domain));
    return absl::StrCat("v", next_unique_++);
  }

  // Picks a cas expectation: usually the current value, sometimes absent or another value.
  std::optional<std::string> PickExpected(const std::optional<std::string>& current) {
    if (random_.Chance(2, 3)) return current;
    if (random_.OneIn(3)) return std::nullopt;
    if (next_unique_ > 0 && options_.value_domain == 0) {
      return absl::StrCat("v", random_.Uniform(next_unique_));
    }
    return NewValue();
  }

  // Fills in the operation's values and, if it applies, executes it atomically.
  void Execute(Operation& op, bool applies) {
    std::optional<std::string>& current = map_[op.key];
    switch (op.kind) {
      case OpKind::kPut:
        op.value = NewValue();
        if (applies) current = op.value;
        break;
      case OpKind::kDelete:
        if (applies) current.reset();
        break;
      case OpKind::kGet:
        if (op.outcome == Outcome::kOk) {
          if (current.has_value()) {
            op.value = *current;
          } else {
            op.outcome = Outcome::kAbsent;
          }
        }
        break;
      case OpKind::kCas: {
        op.expected = PickExpected(current);
        op.value = NewValue();
        const bool matches = applies && op.expected == current;
        if (matches) current = op.value;
        if (op.outcome == Outcome::kOk && !matches) op.outcome = Outcome::kFail;
        break;
      }
      case OpKind::kIncr:
      case OpKind::kExpire:
        break;  // not generated: these histories are registers (put, get, delete, cas)
    }
  }

 private:
  const AtomicHistoryOptions& options_;
  Random& random_;
  uint64_t next_unique_ = 0;
  // Only looked up by key; never iterated.
  absl::flat_hash_map<std::string, std::optional<std::string>> map_;
};

}  // namespace

History GenerateAtomicHistory(const AtomicHistoryOptions& options, Random& random) {
  assert(options.clients >= 1 && options.keys >= 1 && options.operations >= 0);
  assert(options.min_latency_ns >= 0 && options.min_latency_ns <= options.max_latency_ns);
  History ops;
  std::vector<Plan> plans;
  PlanOperations(options, random, ops, plans);
  // Execute in effect order; operations that never apply are filled in at the end.
  std::vector<size_t> order(ops.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return std::make_tuple(!plans[a].applies, plans[a].effect_ns, a) <
           std::make_tuple(!plans[b].applies, plans[b].effect_ns, b);
  });
  AtomicStore store(options, random);
  for (size_t i : order) store.Execute(ops[i], plans[i].applies);
  return ops;
}

}  // namespace crema::chaos
