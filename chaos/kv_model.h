// Internal to chaos/linearizability: sequential key-value models for the linearization search.
//
// Values (and keys) are interned to small integers first, so a model state is an int64 and a step
// is a few comparisons:
//   * `RegisterModel`: one key. State = id of the current value, or kAbsentValue.
//   * `MapModel`: several keys at once (the unpartitioned check). State = id of an interned
//     vector of per-key value ids; only for small histories (tests).
// Sequential semantics, per key (v = current value, absent if none):
//   put(x) -> ok: v := x.  delete -> ok: v := absent.  get -> ok(x) iff v == x; absent iff none.
//   cas(e, x) -> ok iff v == e (absent == absent), then v := x; fail iff v != e, nothing changes.
//   Indeterminate put/delete act as if ok; indeterminate cas swaps iff v == e (if it failed it had
//   no effect, which is the same as not taking effect at all).
//
// Thread safety: none; one model per search.
#ifndef CREMA_CHAOS_KV_MODEL_H_
#define CREMA_CHAOS_KV_MODEL_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "chaos/history.h"
#include "chaos/wgl_search.h"

namespace crema::chaos::internal {

inline constexpr int32_t kAbsentValue = -1;

// One operation with its key and values interned.
struct ModelOp {
  OpKind kind = OpKind::kGet;
  Outcome outcome = Outcome::kOk;
  int32_t key = 0;
  int32_t value = kAbsentValue;     // put: written; cas: new; get: read (kAbsentValue if absent);
                                    // incr: the result (kAbsentValue unless ok).
  int32_t expected = kAbsentValue;  // cas only.
  int64_t delta = 0;                // incr only.
  bool ttl = false;                 // put/cas: the value may expire; expire: sets (true) / removes.
};

// Interns byte strings to dense ids in first-seen order (deterministic for a given input order).
class Interner {
 public:
  int32_t Intern(const std::string& bytes);
  const std::string& Name(int32_t id) const { return names_[id]; }
  size_t size() const { return names_.size(); }

 private:
  absl::flat_hash_map<std::string, int32_t> ids_;
  std::vector<std::string> names_;
};

// The value a single key holds after `op` in `value`, or kIllegalStep.
int64_t StepRegister(int64_t value, const ModelOp& op);
bool IsReadOnlyOp(const ModelOp& op);

class RegisterModel final : public SequentialModel {
 public:
  RegisterModel(const std::vector<ModelOp>& ops, const Interner& values)
      : ops_(ops), values_(values) {}
  int64_t InitialState() override { return kAbsentValue; }
  int64_t Step(int64_t state, size_t op) override { return StepRegister(state, ops_[op]); }
  bool IsReadOnly(size_t op) override { return IsReadOnlyOp(ops_[op]); }
  std::string DescribeState(int64_t state) override;

 private:
  const std::vector<ModelOp>& ops_;
  const Interner& values_;
};

class MapModel final : public SequentialModel {
 public:
  MapModel(const std::vector<ModelOp>& ops, const Interner& keys, const Interner& values);
  int64_t InitialState() override { return 0; }
  int64_t Step(int64_t state, size_t op) override;
  bool IsReadOnly(size_t op) override { return IsReadOnlyOp(ops_[op]); }
  std::string DescribeState(int64_t state) override;

 private:
  int64_t InternState(std::vector<int32_t> values);

  const std::vector<ModelOp>& ops_;
  const Interner& keys_;
  const Interner& values_;
  std::vector<std::vector<int32_t>> states_;  // State id -> value id per key.
  absl::flat_hash_map<std::vector<int32_t>, int64_t> state_ids_;
};

// Renders a value id for reports: the quoted, escaped bytes or `absent`.
std::string DescribeValue(int32_t value, const Interner& values);

}  // namespace crema::chaos::internal

#endif  // CREMA_CHAOS_KV_MODEL_H_
