#include "node/eventual/core/replica_store.h"

#include <cassert>

namespace crema::eventual {
namespace {

int64_t PurgeNanos(const Record& record, absl::Duration grace) {
  const absl::Time at = PurgeTime(record, grace);
  return at == absl::InfiniteFuture() ? INT64_MAX : absl::ToUnixNanos(at);
}

}  // namespace

const char* ApplyOutcomeName(ApplyOutcome outcome) {
  switch (outcome) {
    case ApplyOutcome::kApplied: return "applied";
    case ApplyOutcome::kStale: return "stale";
    case ApplyOutcome::kPurgeable: return "purgeable";
    case ApplyOutcome::kFull: return "full";
  }
  return "?";
}

ReplicaStore::ReplicaStore(StoreConfig config) : config_(config) {
  assert(config_.num_shards > 0 && config_.num_shards <= kMaxEventualShards);
  assert(config_.tree_depth >= 1 && config_.tree_depth <= kMaxTreeDepth);
}

KeyPlace ReplicaStore::PlaceOf(std::string_view key) const {
  const uint64_t hash = membership::KeyHash(key);
  return KeyPlace{static_cast<ShardId>(hash % config_.num_shards),
                  LeafOfKeyHash(hash, config_.tree_depth)};
}

ReplicaStore::SlotView ReplicaStore::ViewOf(std::string_view key) const {
  const KeyPlace place = PlaceOf(key);
  return SlotView{place.shard, place.leaf, key};
}

ApplyOutcome ReplicaStore::Check(std::string_view key, const Record& record,
                                 absl::Time now) const {
  if (absl::ToUnixNanos(now) >= PurgeNanos(record, config_.tombstone_grace)) {
    return ApplyOutcome::kPurgeable;
  }
  auto it = records_.find(ViewOf(key));
  if (it != records_.end()) {
    if (!Supersedes(record, it->second)) return ApplyOutcome::kStale;
    const size_t grown = RecordBytes(key, record);
    const size_t shrunk = RecordBytes(key, it->second);
    if (grown > shrunk && bytes_ + grown - shrunk > config_.max_bytes) return ApplyOutcome::kFull;
    return ApplyOutcome::kApplied;
  }
  if (records_.size() >= config_.max_keys ||
      bytes_ + RecordBytes(key, record) > config_.max_bytes) {
    return ApplyOutcome::kFull;
  }
  return ApplyOutcome::kApplied;
}

void ReplicaStore::Unindex(const Slot& slot, const Record& record) {
  trees_.at(slot.shard).Toggle(slot.leaf, LeafDigest(slot.key, record));
  bytes_ -= RecordBytes(slot.key, record);
  const int64_t purge = PurgeNanos(record, config_.tombstone_grace);
  if (purge != INT64_MAX) purge_queue_.erase({purge, {slot.shard, slot.leaf, slot.key}});
}

void ReplicaStore::Index(const Slot& slot, const Record& record) {
  auto [tree, fresh] = trees_.try_emplace(slot.shard, config_.tree_depth);
  tree->second.Toggle(slot.leaf, LeafDigest(slot.key, record));
  bytes_ += RecordBytes(slot.key, record);
  const int64_t purge = PurgeNanos(record, config_.tombstone_grace);
  if (purge != INT64_MAX) purge_queue_.insert({purge, {slot.shard, slot.leaf, slot.key}});
  if (record.version > max_version_) max_version_ = record.version;
}

ApplyOutcome ReplicaStore::Apply(std::string_view key, const Record& record, absl::Time now) {
  const ApplyOutcome outcome = Check(key, record, now);
  if (outcome != ApplyOutcome::kApplied) return outcome;
  const SlotView view = ViewOf(key);
  auto it = records_.find(view);
  if (it != records_.end()) {
    Unindex(it->first, it->second);
    it->second = record;
    Index(it->first, it->second);
    return outcome;
  }
  Slot slot{view.shard, view.leaf, std::string(key)};
  ++shard_keys_[slot.shard];
  auto inserted = records_.emplace(std::move(slot), record).first;
  Index(inserted->first, inserted->second);
  return outcome;
}

const Record* ReplicaStore::Find(std::string_view key) const {
  auto it = records_.find(ViewOf(key));
  return it == records_.end() ? nullptr : &it->second;
}

bool ReplicaStore::Erase(std::string_view key) {
  auto it = records_.find(ViewOf(key));
  if (it == records_.end()) return false;
  const ShardId shard = it->first.shard;
  Unindex(it->first, it->second);
  records_.erase(it);
  auto count = shard_keys_.find(shard);
  assert(count != shard_keys_.end() && count->second > 0);
  if (--count->second == 0) {
    shard_keys_.erase(count);
    assert(trees_.at(shard).root() == 0);
    trees_.erase(shard);
  }
  return true;
}

std::vector<std::string> ReplicaStore::TakePurgeable(absl::Time now, size_t max) {
  std::vector<std::string> purged;
  const int64_t now_ns = absl::ToUnixNanos(now);
  while (purged.size() < max && !purge_queue_.empty() && purge_queue_.begin()->first <= now_ns) {
    const std::string key = std::get<2>(purge_queue_.begin()->second);
    const bool erased = Erase(key);  // also removes the queue entry
    assert(erased);
    (void)erased;
    purged.push_back(key);
  }
  return purged;
}

const RangeTree* ReplicaStore::Tree(ShardId shard) const {
  auto it = trees_.find(shard);
  return it == trees_.end() ? nullptr : &it->second;
}

uint64_t ReplicaStore::Hash(ShardId shard, int level, uint32_t index) const {
  const RangeTree* tree = Tree(shard);
  return tree == nullptr ? 0 : tree->Hash(level, index);
}

void ReplicaStore::VisitRange(RecordMap::const_iterator it, ShardId shard, const uint32_t* leaf,
                              const Visitor& visit) const {
  for (; it != records_.end() && it->first.shard == shard; ++it) {
    if (leaf != nullptr && it->first.leaf != *leaf) break;
    visit(it->first.key, it->second);
  }
}

void ReplicaStore::ForEachInLeaf(ShardId shard, uint32_t leaf, const Visitor& visit) const {
  VisitRange(records_.lower_bound(SlotView{shard, leaf, std::string_view()}), shard, &leaf, visit);
}

void ReplicaStore::ForEachInShard(ShardId shard, const Visitor& visit) const {
  VisitRange(records_.lower_bound(SlotView{shard, 0, std::string_view()}), shard, nullptr, visit);
}

void ReplicaStore::ForEach(const Visitor& visit) const {
  for (const auto& [slot, record] : records_) visit(slot.key, record);
}

std::vector<ShardId> ReplicaStore::NonEmptyShards() const {
  std::vector<ShardId> shards;
  shards.reserve(shard_keys_.size());
  for (const auto& [shard, count] : shard_keys_) shards.push_back(shard);
  return shards;
}

size_t ReplicaStore::KeysInShard(ShardId shard) const {
  auto it = shard_keys_.find(shard);
  return it == shard_keys_.end() ? 0 : it->second;
}

RangeTree ReplicaStore::RecomputeTree(ShardId shard) const {
  RangeTree tree(config_.tree_depth);
  ForEachInShard(shard, [&](const std::string& key, const Record& record) {
    tree.Toggle(PlaceOf(key).leaf, LeafDigest(key, record));
  });
  return tree;
}

}  // namespace crema::eventual
