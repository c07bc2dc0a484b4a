#include "chaos/kv_model.h"

#include <cassert>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace crema::chaos::internal {
namespace {

// Longest value DescribeValue prints in full.
constexpr size_t kMaxDescribedBytes = 40;

}  // namespace

int32_t Interner::Intern(const std::string& bytes) {
  auto [it, inserted] = ids_.try_emplace(bytes, static_cast<int32_t>(names_.size()));
  if (inserted) {
    assert(names_.size() < INT32_MAX);
    names_.push_back(bytes);
  }
  return it->second;
}

int64_t StepRegister(int64_t value, const ModelOp& op) {
  switch (op.kind) {
    case OpKind::kPut:
      return op.value;
    case OpKind::kDelete:
      return kAbsentValue;
    case OpKind::kGet:
      assert(op.outcome == Outcome::kOk || op.outcome == Outcome::kAbsent);
      return value == op.value ? value : kIllegalStep;
    case OpKind::kCas:
      switch (op.outcome) {
        case Outcome::kOk:
          return value == op.expected ? op.value : kIllegalStep;
        case Outcome::kFail:
          return value != op.expected ? value : kIllegalStep;
        case Outcome::kIndeterminate:
          return value == op.expected ? op.value : value;
        default:
          assert(false && "errors are dropped before the search");
          return kIllegalStep;
      }
    case OpKind::kIncr:
    case OpKind::kExpire:
      // Cache operations: their histories are checked with the cache model (cache_model.h);
      // as a register step they are never legal.
      return kIllegalStep;
  }
  return kIllegalStep;
}

bool IsReadOnlyOp(const ModelOp& op) {
  return op.kind == OpKind::kGet || (op.kind == OpKind::kCas && op.outcome == Outcome::kFail);
}

std::string DescribeValue(int32_t value, const Interner& values) {
  if (value == kAbsentValue) return "absent";
  const std::string& bytes = values.Name(value);
  if (bytes.size() <= kMaxDescribedBytes) return absl::StrCat("\"", absl::CHexEscape(bytes), "\"");
  return absl::StrCat("\"", absl::CHexEscape(bytes.substr(0, kMaxDescribedBytes)), "\"...(",
                      bytes.size(), " bytes)");
}

std::string RegisterModel::DescribeState(int64_t state) {
  return DescribeValue(static_cast<int32_t>(state), values_);
}

MapModel::MapModel(const std::vector<ModelOp>& ops, const Interner& keys, const Interner& values)
    : ops_(ops), keys_(keys), values_(values) {
  InternState(std::vector<int32_t>(keys.size(), kAbsentValue));  // State 0: all absent.
}

int64_t MapModel::InternState(std::vector<int32_t> values) {
  auto [it, inserted] = state_ids_.try_emplace(values, static_cast<int64_t>(states_.size()));
  if (inserted) states_.push_back(std::move(values));
  return it->second;
}

int64_t MapModel::Step(int64_t state, size_t op) {
  const ModelOp& m = ops_[op];
  const int32_t before = states_[state][m.key];
  const int64_t after = StepRegister(before, m);
  if (after == kIllegalStep) return kIllegalStep;
  if (after == before) return state;
  std::vector<int32_t> next = states_[state];
  next[m.key] = static_cast<int32_t>(after);
  return InternState(std::move(next));
}

std::string MapModel::DescribeState(int64_t state) {
  std::string out = "{";
  for (size_t k = 0; k < keys_.size(); ++k) {
    absl::StrAppend(&out, k == 0 ? "" : ", ", "\"", absl::CHexEscape(keys_.Name(k)), "\"=",
                    DescribeValue(states_[state][k], values_));
  }
  return out + "}";
}

}  // namespace crema::chaos::internal
