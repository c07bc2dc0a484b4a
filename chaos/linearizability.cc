#include "chaos/linearizability.h"

#include <algorithm>
#include <memory>
#include <utility>

#include "absl/container/btree_map.h"
#include "absl/container/btree_set.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "chaos/cache_model.h"
#include "chaos/kv_model.h"
#include "chaos/wgl_search.h"

namespace crema::chaos {
namespace {

using internal::Interner;
using internal::ModelOp;
using internal::SearchOp;
using internal::SearchOutcome;
using internal::SearchVerdict;

// ExplainViolation prints at most this many operations of the linearizable prefix (the last ones).
constexpr size_t kMaxExplainedPrefix = 20;

// Operations of one independently checked part of the history.
struct Partition {
  std::string key;                  // Empty for the unpartitioned check.
  std::vector<size_t> history_ops;  // Indices into the history, in history order.
};

bool Constrains(const Operation& op) {
  if (op.outcome == Outcome::kError) return false;
  if (op.local) return false;  // local reads are not linearizable by design
  if (op.kind == OpKind::kGet && op.outcome == Outcome::kIndeterminate) return false;
  return true;
}

// An indeterminate put or cas whose new value no completed get reads and no cas expects, on a key
// with no failed cas, can be dropped: in any linearization that includes it, the value it writes
// is never observed until the next write overwrites it (only a failed cas could tell it apart),
// and any indeterminate cas in between can be left out too. Dropping it keeps the verdict and
// removes a source of branching.
std::vector<size_t> DropUnobservedIndeterminateWrites(const History& history,
                                                      std::vector<size_t> ops) {
  absl::btree_set<std::pair<std::string_view, std::string_view>> observed;
  absl::btree_set<std::string_view> keys_with_failed_cas;
  for (size_t i : ops) {
    const Operation& op = history[i];
    if (op.kind == OpKind::kGet && op.outcome == Outcome::kOk) observed.insert({op.key, op.value});
    if (op.kind == OpKind::kCas && op.expected.has_value()) {
      observed.insert({op.key, *op.expected});
    }
    if (op.kind == OpKind::kCas && op.outcome == Outcome::kFail) keys_with_failed_cas.insert(op.key);
  }
  std::vector<size_t> kept;
  for (size_t i : ops) {
    const Operation& op = history[i];
    const bool droppable = op.indeterminate() &&
                           (op.kind == OpKind::kPut || op.kind == OpKind::kCas) &&
                           !observed.contains({op.key, op.value}) &&
                           !keys_with_failed_cas.contains(op.key);
    if (!droppable) kept.push_back(i);
  }
  return kept;
}

std::vector<Partition> SplitHistory(const History& history, bool by_key, bool cache_model,
                                    size_t* keys) {
  absl::btree_map<std::string, std::vector<size_t>> per_key;  // Sorted: deterministic order.
  for (size_t i = 0; i < history.size(); ++i) {
    if (Constrains(history[i])) per_key[history[i].key].push_back(i);
  }
  *keys = per_key.size();
  std::vector<Partition> partitions;
  if (by_key) {
    for (auto& [key, ops] : per_key) {
      // The drop is proven for registers; a cache's increments read values arithmetically.
      partitions.push_back(
          {key, cache_model ? std::move(ops)
                            : DropUnobservedIndeterminateWrites(history, std::move(ops))});
    }
    return partitions;
  }
  Partition all;
  for (const auto& [key, ops] : per_key) {
    all.history_ops.insert(all.history_ops.end(), ops.begin(), ops.end());
  }
  std::sort(all.history_ops.begin(), all.history_ops.end());
  all.history_ops = DropUnobservedIndeterminateWrites(history, std::move(all.history_ops));
  partitions.push_back(std::move(all));
  return partitions;
}

// The search's inputs for one partition, with keys and values interned.
struct PreparedPartition {
  Interner keys;
  Interner values;
  std::vector<ModelOp> model_ops;
  std::vector<SearchOp> search_ops;
};

void Prepare(const History& history, const Partition& partition, PreparedPartition& out) {
  for (size_t index : partition.history_ops) {
    const Operation& op = history[index];
    ModelOp m{.kind = op.kind, .outcome = op.outcome, .key = out.keys.Intern(op.key)};
    m.delta = op.delta;
    m.ttl = op.ttl;
    const bool has_value = op.kind == OpKind::kPut || op.kind == OpKind::kCas ||
                           ((op.kind == OpKind::kGet || op.kind == OpKind::kIncr) &&
                            op.outcome == Outcome::kOk);
    if (has_value) m.value = out.values.Intern(op.value);
    if (op.kind == OpKind::kCas && op.expected.has_value()) {
      m.expected = out.values.Intern(*op.expected);
    }
    out.model_ops.push_back(m);
    out.search_ops.push_back({.call_ns = op.invoke_ns,
                              .return_ns = op.return_ns.value_or(0),
                              .determinate = !op.indeterminate()});
  }
}

Violation MakeViolation(const Partition& partition, const SearchOutcome& outcome,
                        internal::SequentialModel& model) {
  Violation v;
  v.key = partition.key;
  for (size_t op : outcome.longest_prefix) v.linearized_prefix.push_back(partition.history_ops[op]);
  v.state_after_prefix = model.DescribeState(outcome.state_after_prefix);
  v.blocked_operation = partition.history_ops[outcome.blocked];
  for (size_t op : outcome.candidates) v.candidates.push_back(partition.history_ops[op]);
  return v;
}

}  // namespace

const char* VerdictName(Verdict verdict) {
  switch (verdict) {
    case Verdict::kLinearizable:
      return "true";
    case Verdict::kNotLinearizable:
      return "false";
    case Verdict::kUnknown:
      return "unknown";
  }
  return "?";
}

absl::StatusOr<LinearizabilityResult> CheckLinearizability(const History& history,
                                                           const LinearizabilityOptions& options) {
  if (absl::Status status = ValidateHistory(history); !status.ok()) return status;
  LinearizabilityResult result;
  result.operations = history.size();
  if (!options.cache_model) {
    for (const Operation& op : history) {
      if (op.kind == OpKind::kIncr || op.kind == OpKind::kExpire || op.ttl) {
        return absl::InvalidArgumentError(
            "the history has cache operations (incr, expire, ttl): check it with the cache model");
      }
    }
  }
  if (options.cache_model && !options.partition_by_key) {
    return absl::InvalidArgumentError("the cache model checks one key at a time");
  }
  const std::vector<Partition> partitions =
      SplitHistory(history, options.partition_by_key, options.cache_model, &result.keys);
  bool any_unknown = false;
  for (const Partition& partition : partitions) {
    result.operations_checked += partition.history_ops.size();
    PreparedPartition prepared;
    Prepare(history, partition, prepared);
    std::unique_ptr<internal::SequentialModel> model;
    if (options.cache_model) {
      model = std::make_unique<internal::CacheModel>(prepared.model_ops, prepared.values,
                                                     options.cache_may_evict);
    } else if (options.partition_by_key) {
      model = std::make_unique<internal::RegisterModel>(prepared.model_ops, prepared.values);
    } else {
      model = std::make_unique<internal::MapModel>(prepared.model_ops, prepared.keys,
                                                   prepared.values);
    }
    const internal::SearchBudget budget{
        .max_steps = options.max_steps > result.steps ? options.max_steps - result.steps : 0,
        .max_cache_bytes = options.max_cache_bytes};
    const SearchOutcome outcome =
        internal::SearchLinearization(prepared.search_ops, *model, budget);
    result.steps += outcome.steps;
    result.max_cache_entries = std::max(result.max_cache_entries, outcome.cache_entries);
    if (outcome.verdict == SearchVerdict::kNotLinearizable) {
      result.verdict = Verdict::kNotLinearizable;
      result.violation = MakeViolation(partition, outcome, *model);
      result.unknown_reason.clear();
      return result;
    }
    if (outcome.verdict == SearchVerdict::kUnknown && !any_unknown) {
      any_unknown = true;
      result.unknown_reason = absl::StrCat(
          "budget exhausted (max_steps=", options.max_steps,
          " max_cache_bytes=", options.max_cache_bytes, ") at key \"",
          absl::CHexEscape(partition.key), "\" with ", partition.history_ops.size(), " operations");
    }
  }
  result.verdict = any_unknown ? Verdict::kUnknown : Verdict::kLinearizable;
  return result;
}

std::string LinearizabilitySummary(const LinearizabilityResult& result) {
  std::string line = absl::StrCat(
      "linearizable=", VerdictName(result.verdict), " ops=", result.operations,
      " checked=", result.operations_checked, " keys=", result.keys, " steps=", result.steps,
      " cache=", result.max_cache_entries);
  if (result.violation.has_value()) {
    absl::StrAppend(&line, " key=\"", absl::CHexEscape(result.violation->key), "\" blocked=#",
                    result.violation->blocked_operation);
  }
  if (result.verdict == Verdict::kUnknown) absl::StrAppend(&line, " reason=", result.unknown_reason);
  return line;
}

std::string ExplainViolation(const History& history, const LinearizabilityResult& result) {
  if (!result.violation.has_value()) return "";
  const Violation& v = *result.violation;
  std::string out = absl::StrCat("not linearizable at key \"", absl::CHexEscape(v.key), "\"\n");
  const size_t prefix = v.linearized_prefix.size();
  const size_t shown = std::min(prefix, kMaxExplainedPrefix);
  absl::StrAppend(&out, "longest linearizable prefix (", prefix,
                  " operations, in linearization order; the last ", shown, " shown):\n");
  if (shown < prefix) absl::StrAppend(&out, "  ... ", prefix - shown, " earlier operations\n");
  for (size_t i = prefix - shown; i < prefix; ++i) {
    const size_t index = v.linearized_prefix[i];
    absl::StrAppend(&out, "  ", FormatOperation(history[index], index), "\n");
  }
  absl::StrAppend(&out, "state after the prefix: ", v.state_after_prefix, "\n");
  absl::StrAppend(&out, "cannot linearize before it returns:\n  ",
                  FormatOperation(history[v.blocked_operation], v.blocked_operation), "\n");
  absl::StrAppend(&out, "operations that could have gone next (none leads to a linearization):\n");
  for (size_t index : v.candidates) {
    absl::StrAppend(&out, "  ", FormatOperation(history[index], index), "\n");
  }
  return out;
}

}  // namespace crema::chaos
