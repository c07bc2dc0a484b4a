#include "chaos/cache_model.h"

#include <algorithm>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace crema::chaos::internal {

CacheModel::CacheModel(const std::vector<ModelOp>& ops, const Interner& values, bool may_evict)
    : ops_(ops), values_(values), may_evict_(may_evict) {
  initial_ = Intern({Alt{kAbsentValue, false}});
}

int64_t CacheModel::Intern(std::vector<Alt> alts) {
  std::sort(alts.begin(), alts.end());
  alts.erase(std::unique(alts.begin(), alts.end()), alts.end());
  std::string key;
  for (const Alt& a : alts) {
    absl::StrAppend(&key, a.value, a.ttl ? "t" : "", ",");
  }
  auto [it, inserted] = state_ids_.try_emplace(key, static_cast<int64_t>(states_.size()));
  if (inserted) states_.push_back(std::move(alts));
  return it->second;
}

int32_t CacheModel::InternValue(const std::string& bytes) { return values_.Intern(bytes); }

std::optional<int64_t> CacheModel::IntOf(int32_t value) {
  if (value == kAbsentValue) return std::nullopt;
  auto it = ints_.find(value);
  if (it != ints_.end()) return it->second;
  const std::string& bytes = values_.Name(value);
  int64_t v;
  // The cache's own rule (no sign, spaces or leading zeros); SimpleAtoi is laxer, so check form.
  std::optional<int64_t> parsed;
  const bool canonical = !bytes.empty() && absl::SimpleAtoi(bytes, &v) && absl::StrCat(v) == bytes;
  if (canonical) parsed = v;
  ints_.emplace(value, parsed);
  return parsed;
}

int64_t CacheModel::Step(int64_t state, size_t op) {
  std::vector<Alt> in = states_[state];
  if (may_evict_) in.push_back(Alt{kAbsentValue, false});  // evicted at any moment
  const ModelOp& m = ops_[op];
  const bool ok = m.outcome == Outcome::kOk;
  const bool unknown = m.outcome == Outcome::kIndeterminate;
  std::vector<Alt> out;
  auto present = [](const Alt& a) { return a.value != kAbsentValue; };
  switch (m.kind) {
    case OpKind::kPut:
      out.push_back({m.value, m.ttl});
      break;
    case OpKind::kDelete:
      out.push_back({kAbsentValue, false});
      break;
    case OpKind::kGet:
      for (const Alt& a : in) {
        if (m.outcome == Outcome::kOk ? a.value == m.value : (!present(a) || a.ttl)) {
          out.push_back(a);
        }
      }
      break;
    case OpKind::kCas: {
      bool any_match = false;
      for (const Alt& a : in) {
        const bool match = m.expected == kAbsentValue ? (!present(a) || a.ttl)
                                                      : a.value == m.expected;
        const bool mismatch = m.expected == kAbsentValue ? present(a)
                                                         : (a.value != m.expected || a.ttl);
        any_match = any_match || match;
        if ((!ok) && mismatch) out.push_back(a);  // fail, or indeterminate taking no effect
      }
      if ((ok || unknown) && any_match) out.push_back({m.value, m.ttl});
      break;
    }
    case OpKind::kIncr: {
      std::optional<int64_t> result = ok ? IntOf(m.value) : std::nullopt;
      if (ok && !result) return kIllegalStep;
      for (const Alt& a : in) {
        std::optional<int64_t> v = IntOf(a.value);
        int64_t sum = 0;
        const bool adds = v.has_value() && !__builtin_add_overflow(*v, m.delta, &sum);
        if (ok) {
          if (adds && sum == *result) out.push_back({m.value, a.ttl});
          if ((!present(a) || a.ttl) && m.delta == *result) out.push_back({m.value, false});
        } else if (m.outcome == Outcome::kFail) {
          if (present(a) && !adds) out.push_back(a);
        } else {  // indeterminate
          if (adds) out.push_back({InternValue(absl::StrCat(sum)), a.ttl});
          if (!present(a) || a.ttl) out.push_back({InternValue(absl::StrCat(m.delta)), false});
          if (present(a) && !adds) out.push_back(a);
        }
      }
      break;
    }
    case OpKind::kExpire:
      for (const Alt& a : in) {
        const bool applies = m.ttl ? present(a) : (present(a) && a.ttl);
        const bool may_fail = m.ttl ? (!present(a) || a.ttl) : true;
        if ((ok || unknown) && applies) out.push_back({a.value, m.ttl});
        if (!ok && may_fail) out.push_back(a);
      }
      break;
  }
  if (out.empty()) return kIllegalStep;
  return Intern(std::move(out));
}

std::string CacheModel::DescribeState(int64_t state) {
  std::vector<std::string> parts;
  for (const Alt& a : states_[state]) {
    parts.push_back(absl::StrCat(DescribeValue(a.value, values_), a.ttl ? " (ttl)" : ""));
  }
  if (parts.size() == 1) return parts[0];
  return absl::StrCat("one of {", absl::StrJoin(parts, ", "), "}");
}

}  // namespace crema::chaos::internal
