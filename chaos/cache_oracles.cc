#include "chaos/cache_oracles.h"

#include <cassert>
#include <functional>
#include <limits>
#include <optional>
#include <utility>

#include "absl/container/btree_map.h"
#include "absl/container/btree_set.h"
#include "absl/strings/str_cat.h"

namespace crema::chaos {
namespace {

constexpr int64_t kForever = std::numeric_limits<int64_t>::max();

int64_t ReturnOrForever(const Operation& op) { return op.return_ns.value_or(kForever); }

// Whether the op wrote `op.value` to its key (when it took effect).
bool WritesValue(const Operation& op) {
  return op.kind == OpKind::kPut || op.kind == OpKind::kCas ||
         (op.kind == OpKind::kIncr && op.outcome == Outcome::kOk);
}

bool Acknowledged(const Operation& op) {
  return op.outcome == Outcome::kOk && op.return_ns.has_value();
}

class Checker {
 public:
  Checker(const History& h, const std::vector<OracleInfo>& info, const CacheOracleOptions& o)
      : h_(h), info_(info), o_(o) {
    for (size_t i = 0; i < h.size(); ++i) {
      const Operation& op = h[i];
      by_key_[op.key].push_back(i);
      if (op.kind == OpKind::kIncr) counter_keys_.insert(op.key);
      if (WritesValue(op) && op.outcome != Outcome::kError) writers_[{op.key, op.value}].push_back(i);
    }
  }

  CacheOracleResult Run() {
    for (size_t i = 0; i < h_.size(); ++i) {
      const Operation& r = h_[i];
      if (r.kind != OpKind::kGet || !r.return_ns.has_value()) continue;
      if (r.outcome != Outcome::kOk && r.outcome != Outcome::kAbsent) continue;
      if (r.local) CheckLocal(i);
      if (r.outcome == Outcome::kOk) CheckTtl(i);
      if (r.outcome == Outcome::kOk) CheckExpire(i);
    }
    return std::move(result_);
  }

 private:
  void Report(std::string what) {
    ++result_.violation_count;
    if (result_.violations.size() < o_.max_reported) result_.violations.push_back(std::move(what));
  }

  // The single write that could have produced `value` for `key`, if there is exactly one.
  std::optional<size_t> WriterOf(const std::string& key, const std::string& value) const {
    auto it = writers_.find({key, value});
    if (it == writers_.end() || it->second.size() != 1) return std::nullopt;
    return it->second.front();
  }

  // An op of `kinds` on `key` that may have taken effect within [from_ns, to_ns].
  bool AnyBetween(const std::string& key, int64_t from_ns, int64_t to_ns,
                  const std::function<bool(const Operation&, const OracleInfo&)>& matches) const {
    auto it = by_key_.find(key);
    if (it == by_key_.end()) return false;
    for (size_t j : it->second) {
      const Operation& op = h_[j];
      if (op.outcome == Outcome::kError) continue;
      if (op.invoke_ns <= to_ns && ReturnOrForever(op) >= from_ns && matches(op, info_[j])) {
        return true;
      }
    }
    return false;
  }

  void CheckLocal(size_t ri) {
    const Operation& r = h_[ri];
    ++result_.local_reads_checked;
    const bool counter = counter_keys_.contains(r.key);
    std::optional<size_t> source;
    if (r.outcome == Outcome::kOk) {
      auto it = writers_.find({r.key, r.value});
      bool found = false;
      if (it != writers_.end()) {
        for (size_t j : it->second) found = found || h_[j].invoke_ns <= *r.return_ns;
      }
      if (!found && !counter) {
        Report(absl::StrCat("local read invented a value: ", FormatOperation(r, ri)));
        return;
      }
      source = WriterOf(r.key, r.value);
    }
    // This client's latest write of the key through the same node, acknowledged before r began.
    std::optional<size_t> latest;
    for (size_t j : by_key_.at(r.key)) {
      const Operation& w = h_[j];
      if (w.client != r.client || info_[j].node != info_[ri].node || !Acknowledged(w)) continue;
      if (!(WritesValue(w) || w.kind == OpKind::kDelete) || *w.return_ns >= r.invoke_ns) continue;
      if (!latest || *w.return_ns > *h_[*latest].return_ns) latest = j;
    }
    if (!latest) return;
    const Operation& w = h_[*latest];
    // A counter's values repeat, and an increment whose result is unknown (indeterminate) may
    // have produced the value read after w: then the read's source cannot be pinned down.
    const bool ambiguous_counter =
        counter && AnyBetween(r.key, w.invoke_ns, *r.return_ns,
                              [](const Operation& op, const OracleInfo&) {
                                return op.kind == OpKind::kIncr && op.outcome != Outcome::kOk;
                              });
    if (source && !ambiguous_counter && *source != *latest && h_[*source].return_ns.has_value() &&
        *h_[*source].return_ns < w.invoke_ns) {
      Report(absl::StrCat("local read older than the client's own acknowledged write through the "
                          "same node: ", FormatOperation(r, ri), " after ",
                          FormatOperation(w, *latest), " but read the value of ",
                          FormatOperation(h_[*source], *source)));
      return;
    }
    if (r.outcome == Outcome::kAbsent && o_.lose_nothing && WritesValue(w) && !w.ttl &&
        info_[*latest].ttl_ns == 0) {
      const auto clears_or_expires = [](const Operation& op, const OracleInfo&) {
        return op.kind == OpKind::kDelete || op.kind == OpKind::kExpire ||
               (WritesValue(op) && op.ttl);
      };
      // An increment keeps the key's TTL (as Redis' INCR does): a deadline set by an EXPIRE or a
      // TTL'd write before w still applies to w's value, so the key may have expired since.
      const bool inherited_ttl =
          w.kind == OpKind::kIncr &&
          AnyBetween(r.key, 0, w.invoke_ns, [](const Operation& op, const OracleInfo&) {
            return (op.kind == OpKind::kExpire || WritesValue(op)) && op.ttl;
          });
      const bool explained =
          inherited_ttl || AnyBetween(r.key, w.invoke_ns, *r.return_ns, clears_or_expires);
      if (!explained) {
        Report(absl::StrCat("local read missed the client's own acknowledged write through the "
                            "same node: ", FormatOperation(r, ri), " after ",
                            FormatOperation(w, *latest)));
      }
    }
  }

  void CheckTtl(size_t ri) {
    const Operation& r = h_[ri];
    std::optional<size_t> source = WriterOf(r.key, r.value);
    if (!source) return;
    const Operation& w = h_[*source];
    const OracleInfo& wi = info_[*source];
    if (wi.ttl_ns <= 0 || !w.return_ns.has_value()) return;
    ++result_.ttl_reads_checked;
    const int64_t latest_ns =
        *w.return_ns + wi.ttl_ns + absl::ToInt64Nanoseconds(o_.max_skew);
    if (r.invoke_ns <= latest_ns) return;
    const bool extended = AnyBetween(
        r.key, w.invoke_ns, *r.return_ns, [](const Operation& op, const OracleInfo& info) {
          return op.kind == OpKind::kExpire || info.keeps_ttl;
        });
    if (!extended) {
      Report(absl::StrCat("read a value ", (r.invoke_ns - latest_ns) / 1'000'000,
                          " ms after its deadline plus the skew bound: ", FormatOperation(r, ri),
                          " of ", FormatOperation(w, *source), " with ttl ", wi.ttl_ns / 1'000'000,
                          " ms"));
    }
  }

  // A value read after the deadline of the key's latest acknowledged EXPIRE (with a TTL) before
  // the read, when nothing but increments that kept the deadline touched the key in between.
  void CheckExpire(size_t ri) {
    const Operation& r = h_[ri];
    std::optional<size_t> latest;
    for (size_t j : by_key_.at(r.key)) {
      const Operation& e = h_[j];
      if (e.kind != OpKind::kExpire || !e.ttl || !Acknowledged(e) || info_[j].ttl_ns <= 0) continue;
      if (*e.return_ns >= r.invoke_ns) continue;
      // A local read promises read-your-writes through one node only: through another node than
      // the EXPIRE's it may be stale enough not to reflect the EXPIRE at all.
      if (r.local && info_[j].node != info_[ri].node) continue;
      if (!latest || *e.return_ns > *h_[*latest].return_ns) latest = j;
    }
    if (!latest) return;
    const Operation& e = h_[*latest];
    const int64_t ttl_ns = info_[*latest].ttl_ns;
    const int64_t skew_ns = absl::ToInt64Nanoseconds(o_.max_skew);
    ++result_.expire_reads_checked;
    const int64_t latest_ns = *e.return_ns + ttl_ns + skew_ns;
    if (r.invoke_ns <= latest_ns) return;
    const int64_t earliest_deadline_ns = e.invoke_ns + ttl_ns - skew_ns;
    const Operation* e_ptr = &e;
    const bool may_evict = !o_.lose_nothing;
    const bool touched = AnyBetween(
        r.key, e.invoke_ns, *r.return_ns,
        [e_ptr, earliest_deadline_ns, may_evict](const Operation& op, const OracleInfo&) {
          if (&op == e_ptr || op.kind == OpKind::kGet) return false;
          if (op.kind != OpKind::kIncr || ReturnOrForever(op) >= earliest_deadline_ns) return true;
          // An increment keeps the deadline only of a key that is there: where capacity may evict
          // the key after E, an increment that found it absent (its result is its delta) starts a
          // new key with no deadline (cache seed 10948620717781193540).
          return may_evict && op.outcome == Outcome::kOk && op.value == absl::StrCat(op.delta);
        });
    if (!touched) {
      Report(absl::StrCat("read a value ", (r.invoke_ns - latest_ns) / 1'000'000,
                          " ms after the deadline an expire set plus the skew bound: ",
                          FormatOperation(r, ri), " after ", FormatOperation(e, *latest),
                          " with ttl ", ttl_ns / 1'000'000, " ms"));
    }
  }

  const History& h_;
  const std::vector<OracleInfo>& info_;
  const CacheOracleOptions& o_;
  absl::btree_map<std::string, std::vector<size_t>> by_key_;
  absl::btree_set<std::string> counter_keys_;
  absl::btree_map<std::pair<std::string, std::string>, std::vector<size_t>> writers_;
  CacheOracleResult result_;
};

}  // namespace

CacheOracleResult CheckCacheOracles(const History& history, const std::vector<OracleInfo>& info,
                                    const CacheOracleOptions& options) {
  assert(info.size() == history.size());
  return Checker(history, info, options).Run();
}

}  // namespace crema::chaos
