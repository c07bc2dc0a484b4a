#include "transport/testing/fake_cache_api.h"

#include <limits>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "node/cluster/meta_command.h"

namespace crema::testing {
namespace {

absl::Status CheckKey(std::string_view key) {
  if (key.empty() || key.size() > kMaxKeyBytes) {
    return absl::InvalidArgumentError("key must be 1..65536 bytes");
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status FakeCacheApi::Enter(const char* name) {
  calls_.push_back(name);
  ++concurrent_;
  max_concurrent_ = std::max(max_concurrent_, concurrent_);
  if (delay_ > absl::ZeroDuration() && executor_ != nullptr) {
    absl::Status s = executor_->Sleep(delay_);
    if (!s.ok()) {
      --concurrent_;
      return s;
    }
  }
  if (!fail_next_.ok()) {
    absl::Status s = fail_next_;
    fail_next_ = absl::OkStatus();
    --concurrent_;
    return s;
  }
  return absl::OkStatus();
}

FakeCacheApi::Entry* FakeCacheApi::Find(std::string_view key) {
  auto it = data_.find(key);
  if (it == data_.end()) return nullptr;
  if (it->second.deadline <= clock_->Now()) {
    data_.erase(it);
    return nullptr;
  }
  return &it->second;
}

absl::StatusOr<absl::Time> FakeCacheApi::DeadlineFor(const Expiration& e,
                                                     const Entry* existing) const {
  switch (e.kind) {
    case Expiration::Kind::kDefault:
    case Expiration::Kind::kNever:
      return absl::InfiniteFuture();
    case Expiration::Kind::kAfter:
      if (e.ttl <= absl::ZeroDuration()) return absl::InvalidArgumentError("ttl must be > 0");
      return clock_->Now() + e.ttl;
    case Expiration::Kind::kAt:
      return e.at;
    case Expiration::Kind::kKeep:
      return existing ? existing->deadline : absl::InfiniteFuture();
  }
  return absl::InvalidArgumentError("bad expiration");
}

#define CREMA_FAKE_ENTER(name)                  \
  if (absl::Status s = Enter(name); !s.ok()) return s; \
  struct LeaveGuard {                           \
    FakeCacheApi* f;                            \
    ~LeaveGuard() { f->Leave(); }               \
  } leave_guard{this}

absl::StatusOr<std::optional<std::string>> FakeCacheApi::Get(std::string_view key,
                                                             const ReadOptions& options) {
  CREMA_FAKE_ENTER("Get");
  last_read_ = options.consistency;
  if (absl::Status s = CheckKey(key); !s.ok()) return s;
  Entry* e = Find(key);
  if (e == nullptr) return std::nullopt;
  return e->value;
}

std::optional<absl::StatusOr<std::optional<std::string>>> FakeCacheApi::TryGetNow(
    std::string_view key, const ReadOptions& options) {
  if (!inline_reads_ || !fail_next_.ok()) return std::nullopt;
  calls_.push_back("TryGetNow");
  last_read_ = options.consistency;
  inline_readings_.push_back(options.now);
  if (absl::Status s = CheckKey(key); !s.ok()) return absl::StatusOr<std::optional<std::string>>(s);
  Entry* e = Find(key);
  if (e == nullptr) return absl::StatusOr<std::optional<std::string>>(std::nullopt);
  return absl::StatusOr<std::optional<std::string>>(e->value);
}

absl::StatusOr<std::vector<std::optional<std::string>>> FakeCacheApi::MultiGet(
    const std::vector<std::string>& keys, const ReadOptions& options) {
  CREMA_FAKE_ENTER("MultiGet");
  last_read_ = options.consistency;
  std::vector<std::optional<std::string>> out;
  for (const std::string& key : keys) {
    if (absl::Status s = CheckKey(key); !s.ok()) return s;
    Entry* e = Find(key);
    out.push_back(e ? std::optional<std::string>(e->value) : std::nullopt);
  }
  return out;
}

absl::StatusOr<TtlResult> FakeCacheApi::Ttl(std::string_view key, const ReadOptions& options) {
  CREMA_FAKE_ENTER("Ttl");
  last_read_ = options.consistency;
  Entry* e = Find(key);
  TtlResult r;
  if (e == nullptr) return r;
  if (e->deadline == absl::InfiniteFuture()) {
    r.kind = TtlResult::Kind::kNoExpiry;
  } else {
    r.kind = TtlResult::Kind::kExpires;
    r.remaining = e->deadline - clock_->Now();
  }
  return r;
}

absl::StatusOr<PutResult> FakeCacheApi::Put(std::string_view key, std::string_view value,
                                            const PutOptions& options) {
  CREMA_FAKE_ENTER("Put");
  if (absl::Status s = CheckKey(key); !s.ok()) return s;
  if (value.size() > kMaxValueBytes) return absl::InvalidArgumentError("value too large");
  Entry* e = Find(key);
  PutResult r;
  if (options.return_previous && e) r.previous = e->value;
  if ((options.condition == PutCondition::kIfAbsent && e) ||
      (options.condition == PutCondition::kIfPresent && !e)) {
    return r;
  }
  absl::StatusOr<absl::Time> deadline = DeadlineFor(options.expiration, e);
  if (!deadline.ok()) return deadline.status();
  r.written = true;
  if (*deadline <= clock_->Now()) {
    data_.erase(std::string(key));
    return r;
  }
  data_[std::string(key)] = Entry{std::string(value), *deadline};
  ++writes_[std::string(key)];
  return r;
}

absl::Status FakeCacheApi::MultiPut(
    const std::vector<std::pair<std::string, std::string>>& entries, const Expiration& expiration,
    const WriteOptions&) {
  CREMA_FAKE_ENTER("MultiPut");
  if (entries.size() > kMaxMultiKeys) return absl::InvalidArgumentError("too many keys");
  for (const auto& [k, v] : entries) {
    if (absl::Status s = CheckKey(k); !s.ok()) return s;
  }
  for (const auto& [k, v] : entries) {
    absl::StatusOr<absl::Time> deadline = DeadlineFor(expiration, Find(k));
    if (!deadline.ok()) return deadline.status();
    data_[k] = Entry{v, *deadline};
    ++writes_[k];
  }
  return absl::OkStatus();
}

std::vector<absl::Status> FakeCacheApi::MultiPutEach(
    const std::vector<std::pair<std::string, std::string>>& entries, const Expiration& expiration,
    const WriteOptions&) {
  std::vector<absl::Status> out(entries.size());
  if (absl::Status s = Enter("MultiPutEach"); !s.ok()) {
    for (absl::Status& o : out) o = s;
    return out;
  }
  for (size_t i = 0; i < entries.size(); ++i) {
    const auto& [k, v] = entries[i];
    if (absl::Status s = CheckKey(k); !s.ok()) {
      out[i] = s;
      continue;
    }
    if (auto f = fail_keys_.find(k); f != fail_keys_.end()) {
      out[i] = f->second;
      continue;
    }
    absl::StatusOr<absl::Time> deadline = DeadlineFor(expiration, Find(k));
    if (!deadline.ok()) {
      out[i] = deadline.status();
      continue;
    }
    data_[k] = Entry{v, *deadline};
    ++writes_[k];
  }
  Leave();
  return out;
}

absl::StatusOr<std::optional<std::string>> FakeCacheApi::Delete(std::string_view key,
                                                                const WriteOptions&) {
  CREMA_FAKE_ENTER("Delete");
  if (absl::Status s = CheckKey(key); !s.ok()) return s;
  Entry* e = Find(key);
  if (e == nullptr) return std::nullopt;
  std::string v = std::move(e->value);
  data_.erase(std::string(key));
  return v;
}

absl::StatusOr<bool> FakeCacheApi::CompareAndSet(std::string_view key,
                                                 std::optional<std::string> expected,
                                                 std::string_view new_value,
                                                 const Expiration& expiration,
                                                 const WriteOptions&) {
  CREMA_FAKE_ENTER("CompareAndSet");
  if (absl::Status s = CheckKey(key); !s.ok()) return s;
  Entry* e = Find(key);
  if (expected.has_value() != (e != nullptr)) return false;
  if (e && e->value != *expected) return false;
  absl::StatusOr<absl::Time> deadline = DeadlineFor(expiration, e);
  if (!deadline.ok()) return deadline.status();
  data_[std::string(key)] = Entry{std::string(new_value), *deadline};
  return true;
}

absl::StatusOr<int64_t> FakeCacheApi::Increment(std::string_view key, int64_t delta,
                                                const WriteOptions&) {
  CREMA_FAKE_ENTER("Increment");
  if (absl::Status s = CheckKey(key); !s.ok()) return s;
  Entry* e = Find(key);
  int64_t current = 0;
  if (e && !absl::SimpleAtoi(e->value, &current)) {
    return absl::FailedPreconditionError("value is not an integer");
  }
  if ((delta > 0 && current > std::numeric_limits<int64_t>::max() - delta) ||
      (delta < 0 && current < std::numeric_limits<int64_t>::min() - delta)) {
    return absl::FailedPreconditionError("increment or decrement would overflow");
  }
  const int64_t next = current + delta;
  if (e) {
    e->value = absl::StrCat(next);
  } else {
    data_[std::string(key)] = Entry{absl::StrCat(next), absl::InfiniteFuture()};
  }
  return next;
}

absl::StatusOr<bool> FakeCacheApi::Expire(std::string_view key, const Expiration& expiration,
                                          const WriteOptions&) {
  CREMA_FAKE_ENTER("Expire");
  Entry* e = Find(key);
  if (e == nullptr) return false;
  absl::StatusOr<absl::Time> deadline = DeadlineFor(expiration, e);
  if (!deadline.ok()) return deadline.status();
  if (*deadline <= clock_->Now()) {
    data_.erase(std::string(key));
  } else {
    e->deadline = *deadline;
  }
  return true;
}

// The same rules as the replicated state machine's kExpireIf (cache/replicated).
absl::StatusOr<bool> FakeCacheApi::ExpireIf(std::string_view key, const Expiration& expiration,
                                            ExpireCondition condition,
                                            const WriteOptions& options) {
  if (!condition.Valid()) return absl::InvalidArgumentError("incompatible expire conditions");
  if (condition.empty()) return Expire(key, expiration, options);
  CREMA_FAKE_ENTER("ExpireIf");
  Entry* e = Find(key);
  if (e == nullptr) return false;
  absl::StatusOr<absl::Time> deadline = DeadlineFor(expiration, e);
  if (!deadline.ok()) return deadline.status();
  const bool has_deadline = e->deadline != absl::InfiniteFuture();
  if ((condition.if_no_expiry && has_deadline) || (condition.if_has_expiry && !has_deadline) ||
      (condition.if_greater && (!has_deadline || *deadline <= e->deadline)) ||
      (condition.if_less && has_deadline && *deadline >= e->deadline)) {
    return false;
  }
  if (*deadline <= clock_->Now()) {
    data_.erase(std::string(key));
  } else {
    e->deadline = *deadline;
  }
  return true;
}

absl::StatusOr<std::optional<std::string>> FakeCacheApi::GetAndTouch(
    std::string_view key, std::optional<Expiration> expiration, const WriteOptions&) {
  CREMA_FAKE_ENTER("GetAndTouch");
  Entry* e = Find(key);
  if (e == nullptr) return std::nullopt;
  std::string value = e->value;
  if (expiration) {
    absl::StatusOr<absl::Time> deadline = DeadlineFor(*expiration, e);
    if (!deadline.ok()) return deadline.status();
    if (*deadline <= clock_->Now()) {
      data_.erase(std::string(key));
    } else {
      e->deadline = *deadline;
    }
  }
  return value;
}

absl::StatusOr<int64_t> FakeCacheApi::Size(const ReadOptions&) {
  CREMA_FAKE_ENTER("Size");
  int64_t n = 0;
  for (const auto& [k, e] : data_) n += e.deadline > clock_->Now();
  return n;
}

absl::Status FakeCacheApi::AdmitNode(NodeId node, const WriteOptions&) {
  CREMA_FAKE_ENTER("AdmitNode");
  admin_log.push_back(absl::StrCat("admit ", node));
  return absl::OkStatus();
}
absl::Status FakeCacheApi::DrainNode(NodeId node, const WriteOptions&) {
  CREMA_FAKE_ENTER("DrainNode");
  admin_log.push_back(absl::StrCat("drain ", node));
  return absl::OkStatus();
}
absl::Status FakeCacheApi::RemoveNode(NodeId node, const WriteOptions&) {
  CREMA_FAKE_ENTER("RemoveNode");
  admin_log.push_back(absl::StrCat("remove ", node));
  return absl::OkStatus();
}
absl::Status FakeCacheApi::TransferShardLeader(uint32_t shard, NodeId to, const WriteOptions&) {
  CREMA_FAKE_ENTER("TransferShardLeader");
  if (shard >= status_.num_shards) return absl::NotFoundError(absl::StrCat("no shard ", shard));
  admin_log.push_back(absl::StrCat("transfer ", shard, " to ", to));
  return absl::OkStatus();
}

void FakeCacheApi::EnableKeyspaces(const std::vector<keyspace::KeyspaceSpec>& initial) {
  cluster::ClusterParams params;
  params.num_shards = 1;
  params.replication_factor = 1;
  params.meta_replication_factor = 1;
  params.shard.capacity = 1;
  map_ = cluster::InitialClusterMap({1}, {""}, params, initial);
}

std::optional<KeyspaceTable> FakeCacheApi::Keyspaces() {
  if (!map_) return std::nullopt;
  KeyspaceTable table;
  table.version = map_->version;
  table.next_generation = map_->next_keyspace_generation;
  for (const auto& [key, record] : map_->keyspaces) {
    if (record.state == cluster::KeyspaceState::kLive) {
      table.live.push_back({record.spec, record.generation});
    }
  }
  return table;
}

absl::StatusOr<keyspace::Keyspace> FakeCacheApi::CreateKeyspace(std::string_view spec,
                                                              const WriteOptions&) {
  CREMA_FAKE_ENTER("CreateKeyspace");
  if (!map_) return absl::UnimplementedError("keyspaces are not enabled in this fake");
  cluster::MetaCommand c;
  c.kind = cluster::MetaCommandKind::kCreateKeyspace;
  c.keyspace_spec = std::string(spec);
  if (absl::Status s = cluster::ApplyMetaCommandOrWhy(*map_, c); !s.ok()) return s;
  admin_log.push_back(absl::StrCat("create ", std::string(spec)));
  const uint64_t generation = map_->next_keyspace_generation - 1;
  for (const auto& [key, record] : map_->keyspaces) {
    if (key.second == generation) return keyspace::Keyspace{record.spec, generation};
  }
  return absl::InternalError("created keyspace not found");
}

absl::Status FakeCacheApi::DropKeyspace(uint32_t index, uint64_t generation, const WriteOptions&) {
  CREMA_FAKE_ENTER("DropKeyspace");
  if (!map_) return absl::UnimplementedError("keyspaces are not enabled in this fake");
  cluster::MetaCommand c;
  c.kind = cluster::MetaCommandKind::kDropKeyspace;
  c.keyspace_index = index;
  c.keyspace_generation = generation;
  if (absl::Status s = cluster::ApplyMetaCommandOrWhy(*map_, c); !s.ok()) return s;
  admin_log.push_back(absl::StrCat("drop ", index, "/", generation));
  return absl::OkStatus();
}

}  // namespace crema::testing
