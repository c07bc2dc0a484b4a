#include "node/eventual/core/hint_set.h"

#include <algorithm>
#include <cstdio>

#include "node/eventual/core/wire.h"

namespace crema::eventual {

HintAddResult HintSet::Check(const Hint& hint) const {
  auto it = hints_.find(KeyView{hint.target, hint.key});
  if (it != hints_.end()) {
    if (!Supersedes(hint.record, it->second.record)) return HintAddResult::kStale;
    const size_t grown = HintBytes(hint), shrunk = HintBytes(it->second);
    if (grown > shrunk && bytes_ + grown - shrunk > config_.max_bytes) return HintAddResult::kFull;
    return HintAddResult::kReplaced;
  }
  if (hints_.size() >= config_.max_hints || bytes_ + HintBytes(hint) > config_.max_bytes) {
    return HintAddResult::kFull;
  }
  return HintAddResult::kAdded;
}

HintAddResult HintSet::Add(Hint hint, Hint* superseded) {
  const HintAddResult result = Check(hint);
  if (result == HintAddResult::kReplaced) {
    auto it = hints_.find(KeyView{hint.target, hint.key});
    if (superseded != nullptr) *superseded = it->second;
    bytes_ = bytes_ - HintBytes(it->second) + HintBytes(hint);
    it->second = std::move(hint);
  } else if (result == HintAddResult::kAdded) {
    bytes_ += HintBytes(hint);
    by_key_.insert({hint.key, hint.target});
    Key key{hint.target, hint.key};
    hints_.emplace(std::move(key), std::move(hint));
  }
  return result;
}

const Hint* HintSet::Find(NodeId target, std::string_view key) const {
  auto it = hints_.find(KeyView{target, key});
  return it == hints_.end() ? nullptr : &it->second;
}

bool HintSet::Remove(NodeId target, std::string_view key, const Version& version) {
  auto it = hints_.find(KeyView{target, key});
  if (it == hints_.end() || it->second.record.version != version) return false;
  bytes_ -= HintBytes(it->second);
  by_key_.erase({it->second.key, target});
  hints_.erase(it);
  return true;
}

std::vector<Hint> HintSet::Batch(NodeId target, std::string_view after_key, size_t max_count,
                                 size_t max_bytes) const {
  std::vector<Hint> batch;
  size_t batch_bytes = 0;
  for (auto it = hints_.upper_bound(KeyView{target, after_key});
       it != hints_.end() && it->first.first == target && batch.size() < max_count; ++it) {
    const size_t bytes = HintBytes(it->second);
    if (!batch.empty() && batch_bytes + bytes > max_bytes) break;
    batch.push_back(it->second);
    batch_bytes += bytes;
  }
  return batch;
}

std::vector<NodeId> HintSet::Targets() const {
  std::vector<NodeId> targets;
  for (const auto& [key, hint] : hints_) {
    if (targets.empty() || targets.back() != key.first) targets.push_back(key.first);
  }
  return targets;
}

std::vector<Hint> HintSet::Expired(absl::Time now, size_t max) const {
  const int64_t cutoff = absl::ToUnixNanos(now - config_.window);
  std::vector<Hint> expired;
  for (const auto& [key, hint] : hints_) {
    if (hint.stored_at_ns <= cutoff) expired.push_back(hint);
  }
  std::stable_sort(expired.begin(), expired.end(), [](const Hint& a, const Hint& b) {
    return a.stored_at_ns < b.stored_at_ns;
  });
  if (expired.size() > max) expired.resize(max);
  return expired;
}

std::optional<Record> HintSet::NewestForKey(std::string_view key) const {
  std::optional<Record> newest;
  for (auto it = by_key_.lower_bound({std::string(key), kNoNode});
       it != by_key_.end() && it->first == key; ++it) {
    const Hint* hint = Find(it->second, key);
    if (hint != nullptr && (!newest || Supersedes(hint->record, *newest))) newest = hint->record;
  }
  return newest;
}

std::vector<Hint> HintSet::All() const {
  std::vector<Hint> all;
  all.reserve(hints_.size());
  for (const auto& [key, hint] : hints_) all.push_back(hint);
  return all;
}

size_t HintSet::CountFor(NodeId target) const {
  size_t count = 0;
  for (auto it = hints_.lower_bound(KeyView{target, std::string_view()});
       it != hints_.end() && it->first.first == target; ++it) {
    ++count;
  }
  return count;
}

std::string HintSet::StorageKey(NodeId target, std::string_view key) {
  char prefix[10];
  std::snprintf(prefix, sizeof(prefix), "%08x/", target);
  std::string out(prefix);
  out.append(key.data(), key.size());
  return out;
}

std::string HintSet::Encode(const Hint& hint) {
  WireWriter out;
  out.PutU32(hint.target);
  out.PutI64(hint.stored_at_ns);
  out.PutBytes(hint.key);
  EncodeRecord(hint.record, out);
  return std::move(out).Finish();
}

absl::Status HintSet::Decode(std::string_view bytes, Hint* hint) {
  WireReader in(bytes);
  if (!in.GetU32(&hint->target) || hint->target == kNoNode || !in.GetI64(&hint->stored_at_ns) ||
      !in.GetBytes(&hint->key, kMaxKeyBytes) || hint->key.empty()) {
    return absl::InvalidArgumentError("hint: bad header");
  }
  absl::Status status = DecodeRecord(in, &hint->record);
  if (!status.ok()) return status;
  if (!in.done()) return absl::InvalidArgumentError("hint: trailing bytes");
  return absl::OkStatus();
}

}  // namespace crema::eventual
