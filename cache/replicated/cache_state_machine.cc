#include "cache/replicated/cache_state_machine.h"

#include <algorithm>
#include <cassert>
#include <tuple>
#include <utility>

#include "absl/strings/str_cat.h"
#include "node/wire.h"
#include "xxhash.h"

namespace crema::replicated {
namespace {

constexpr uint8_t kCheckpointVersion = 1;

int64_t UnixNs(absl::Time t) {
  if (t == absl::InfiniteFuture()) return INT64_MAX;
  return absl::ToUnixNanos(t);  // saturates
}

absl::Time FromUnixNs(int64_t ns) {
  if (ns == INT64_MAX) return absl::InfiniteFuture();
  return absl::FromUnixNanos(ns);
}

cache::CacheOptions CacheOptionsFor(const ShardConfig& config) {
  cache::CacheOptions options;
  options.max_weight = config.capacity;
  options.eviction = cache::EvictionMode::kDeferred;
  if (config.weigh_bytes) {
    options.weigher = [](std::string_view key, std::string_view value) {
      const uint64_t w = key.size() + value.size() + CacheStateMachine::kEntryOverheadBytes;
      return static_cast<uint32_t>(std::min<uint64_t>(w, UINT32_MAX));
    };
  }
  return options;
}

}  // namespace

absl::Status ShardConfig::Validate() const {
  if (capacity <= 0) return absl::InvalidArgumentError("shard config: capacity must be > 0");
  if (max_request_age_ns <= 0 || session_ttl_ns <= max_request_age_ns) {
    return absl::InvalidArgumentError(
        "shard config: need 0 < max_request_age < session_ttl (sessions must outlive requests)");
  }
  return absl::OkStatus();
}

std::optional<int64_t> ParseStrictInt64(std::string_view s) {
  if (s.empty() || s.size() > 20) return std::nullopt;
  size_t i = 0;
  const bool negative = s[0] == '-';
  if (negative) i = 1;
  if (i == s.size()) return std::nullopt;
  if (s[i] == '0' && s.size() > i + 1) return std::nullopt;  // leading zero
  if (negative && s == "-0") return std::nullopt;
  int64_t v = 0;
  for (; i < s.size(); ++i) {
    if (s[i] < '0' || s[i] > '9') return std::nullopt;
    const int digit = s[i] - '0';
    if (__builtin_mul_overflow(v, 10, &v)) return std::nullopt;
    if (negative ? __builtin_sub_overflow(v, digit, &v) : __builtin_add_overflow(v, digit, &v)) {
      return std::nullopt;
    }
  }
  return v;
}

CacheStateMachine::CacheStateMachine(const ShardConfig& config)
    : config_(config), sessions_(config.session_ttl_ns, config.max_request_age_ns) {
  assert(config_.Validate().ok());
  ResetCache();
}

void CacheStateMachine::ResetCache() {
  cache::CacheOptions options = CacheOptionsFor(config_);
  // Every entry that leaves (replaced, removed, evicted, expired) gives its bytes back; Store
  // counts them in. Only bytes() reads the total: it decides nothing.
  options.removal_listener = [this](std::string_view key, std::string_view value,
                                    cache::RemovalCause) {
    data_bytes_ -= static_cast<int64_t>(key.size() + value.size());
  };
  cache_ = std::make_unique<cache::LocalCache>(clock_, std::move(options));
  data_bytes_ = 0;  // after the old cache is gone
}

void CacheStateMachine::Store(std::string_view key, std::string_view value, absl::Time deadline) {
  data_bytes_ += static_cast<int64_t>(key.size() + value.size());
  cache_->PutUntil(key, value, deadline);
}

std::string CacheStateMachine::ApplyWithResult(raft::Index index, std::string_view data) {
  assert(index > applied_);
  applied_ = index;
  absl::StatusOr<Command> command = DecodeCommand(data);
  if (!command.ok()) return EncodeResult(Result{ResultCode::kInvalid});
  clock_.AdvanceTo(FromUnixNs(command->stamp_unix_ns));
  const int64_t now_ns = UnixNs(log_time());
  sessions_.Expire(now_ns);
  if (!IsClientCommand(command->kind)) {
    if (command->kind == CommandKind::kEvict) {
      for (const std::string& key : command->keys) (void)cache_->Evict(key);
    } else {
      cache_->RunPendingTasks();  // kTick: drop what log time has expired
    }
    return EncodeResult(Result{});
  }
  if (std::optional<Result> early = sessions_.Admit(*command, now_ns)) {
    return EncodeResult(*early);
  }
  const Result result = Execute(*command);
  sessions_.Record(*command, result);
  if (planted_self_eviction_ && cache_->weight() > config_.capacity) {
    for (const std::string& key : cache_->EvictionCandidates(cache_->weight() - config_.capacity,
                                                             1024)) {
      (void)cache_->Evict(key);
    }
  }
  return EncodeResult(result);
}

absl::Time CacheStateMachine::Resolve(const Expiry& expiry, std::optional<absl::Time> current,
                                      int64_t default_ttl_ns) const {
  const absl::Time now = log_time();
  switch (expiry.kind) {
    case ExpiryKind::kNever: return absl::InfiniteFuture();
    case ExpiryKind::kAfter: return now + absl::Nanoseconds(expiry.ns);
    case ExpiryKind::kAt: return FromUnixNs(expiry.ns);
    case ExpiryKind::kKeep:
      if (current) return *current;
      return default_ttl_ns > 0 ? now + absl::Nanoseconds(default_ttl_ns)
                                : absl::InfiniteFuture();
  }
  return absl::InfiniteFuture();
}

absl::Time CacheStateMachine::ResolveFor(const Expiry& expiry, std::string_view key,
                                         int64_t default_ttl_ns) const {
  // Only KEEPTTL reads the key's current deadline: a plain SET skips that lookup.
  const std::optional<absl::Time> current =
      expiry.kind == ExpiryKind::kKeep ? cache_->DeadlineOf(key) : std::nullopt;
  return Resolve(expiry, current, default_ttl_ns);
}

Result CacheStateMachine::Execute(const Command& c) {
  switch (c.kind) {
    case CommandKind::kPut: return Put(c);
    case CommandKind::kDelete: {
      Result r;
      if (const cache::ValuePtr old = cache_->Peek(c.key)) {
        r.value = *old;
        cache_->Invalidate(c.key);
      }
      return r;
    }
    case CommandKind::kDeletePrefix: {
      const std::string_view prefix = c.key;
      Result r;
      r.integer = cache_->InvalidateIf([prefix](std::string_view key, std::string_view) {
        return key.substr(0, prefix.size()) == prefix;
      });
      return r;
    }
    case CommandKind::kCas: return Cas(c);
    case CommandKind::kIncrement: return Increment(c);
    case CommandKind::kExpire: return Expire(c);
    case CommandKind::kExpireIf: return ExpireIf(c);
    case CommandKind::kGetAndTouch: return GetAndTouch(c);
    case CommandKind::kMultiPut:
      for (const auto& [key, value] : c.entries) {
        const absl::Time deadline = ResolveFor(c.expiry, key, c.default_ttl_ns);
        if (deadline != absl::InfiniteFuture()) timed_entries_hint_ = true;
        Store(key, value, deadline);
      }
      return Result{};
    case CommandKind::kEvict:
    case CommandKind::kTick:
      break;
  }
  return Result{ResultCode::kInvalid};
}

Result CacheStateMachine::Put(const Command& c) {
  Result r;
  const cache::ValuePtr old = cache_->Peek(c.key);
  if (c.return_previous && old != nullptr) r.value = *old;
  const bool exists = old != nullptr;
  if ((c.condition == PutCondition::kIfAbsent && exists) ||
      (c.condition == PutCondition::kIfPresent && !exists)) {
    r.code = ResultCode::kNotApplied;
    return r;
  }
  const absl::Time deadline = ResolveFor(c.expiry, c.key, c.default_ttl_ns);
  if (deadline != absl::InfiniteFuture()) timed_entries_hint_ = true;
  Store(c.key, c.value, deadline);
  return r;
}

Result CacheStateMachine::Cas(const Command& c) {
  const cache::ValuePtr current = cache_->Peek(c.key);
  const bool match = c.expected ? (current != nullptr && *current == *c.expected)
                                : current == nullptr;
  if (!match) return Result{ResultCode::kNotApplied};
  const absl::Time deadline = ResolveFor(c.expiry, c.key, c.default_ttl_ns);
  if (deadline != absl::InfiniteFuture()) timed_entries_hint_ = true;
  Store(c.key, c.value, deadline);
  return Result{};
}

Result CacheStateMachine::Increment(const Command& c) {
  int64_t value = 0;
  std::optional<absl::Time> deadline = cache_->DeadlineOf(c.key);
  if (const cache::ValuePtr current = cache_->Peek(c.key)) {
    std::optional<int64_t> parsed = ParseStrictInt64(*current);
    if (!parsed) return Result{ResultCode::kNotInteger};
    value = *parsed;
  }
  int64_t sum;
  if (__builtin_add_overflow(value, c.delta, &sum)) return Result{ResultCode::kNotInteger};
  const absl::Time until = Resolve(Expiry{ExpiryKind::kKeep}, deadline, c.default_ttl_ns);
  if (until != absl::InfiniteFuture()) timed_entries_hint_ = true;
  Store(c.key, absl::StrCat(sum), until);
  Result r;
  r.integer = sum;
  return r;
}

Result CacheStateMachine::Expire(const Command& c) {
  std::optional<absl::Time> current = cache_->DeadlineOf(c.key);
  if (!current) return Result{ResultCode::kNotApplied};
  // PERSIST of a key without a deadline changes nothing (Redis answers 0).
  if (c.expiry.kind == ExpiryKind::kNever && *current == absl::InfiniteFuture()) {
    return Result{ResultCode::kNotApplied};
  }
  const absl::Time deadline = Resolve(c.expiry, current, c.default_ttl_ns);
  if (deadline != absl::InfiniteFuture()) timed_entries_hint_ = true;
  (void)cache_->SetDeadline(c.key, deadline);  // a past deadline removes the key
  return Result{};
}

// Redis 7's expireGenericCommand, judged by log time: absent key, then NX, XX, GT (a key without
// a deadline never passes), LT (one without a deadline always does), then the write (a deadline
// not after log time removes the key).
Result CacheStateMachine::ExpireIf(const Command& c) {
  const std::optional<absl::Time> current = cache_->DeadlineOf(c.key);
  if (!current) return Result{ResultCode::kNotApplied};
  const ExpireCondition& when = c.expire_condition;
  const bool has_deadline = *current != absl::InfiniteFuture();
  const absl::Time deadline = Resolve(c.expiry, current, c.default_ttl_ns);
  const bool holds = !(when.if_no_expiry && has_deadline) &&
                     !(when.if_has_expiry && !has_deadline) &&
                     !(when.if_greater && (!has_deadline || deadline <= *current)) &&
                     !(when.if_less && has_deadline && deadline >= *current);
  if (!holds) return Result{ResultCode::kNotApplied};
  if (deadline != absl::InfiniteFuture()) timed_entries_hint_ = true;
  (void)cache_->SetDeadline(c.key, deadline);  // a past deadline removes the key
  return Result{};
}

Result CacheStateMachine::GetAndTouch(const Command& c) {
  Result r;
  const cache::ValuePtr current = cache_->Peek(c.key);
  if (current == nullptr) return r;  // kOk without a value: a miss
  r.value = *current;
  if (c.touch) {
    const absl::Time deadline = ResolveFor(c.expiry, c.key, c.default_ttl_ns);
    if (deadline != absl::InfiniteFuture()) timed_entries_hint_ = true;
    (void)cache_->SetDeadline(c.key, deadline);
  }
  return r;
}

std::optional<std::string> CacheStateMachine::Read(std::string_view key, absl::Time wall_now) {
  absl::Time deadline;
  const cache::ValuePtr value = cache_->GetIfPresent(key, &deadline);  // records the access
  if (value == nullptr || deadline <= wall_now) return std::nullopt;
  return std::string(*value);
}

std::optional<absl::Time> CacheStateMachine::DeadlineOf(std::string_view key,
                                                        absl::Time wall_now) const {
  std::optional<absl::Time> deadline = cache_->DeadlineOf(key);
  if (!deadline || *deadline <= wall_now) return std::nullopt;
  return deadline;
}

std::vector<std::string> CacheStateMachine::EvictionCandidates(size_t max_keys) {
  const int64_t target = config_.capacity - config_.capacity * kEvictionHeadroomPercent / 100;
  const int64_t excess = cache_->weight() - target;
  if (cache_->weight() <= config_.capacity || excess <= 0) return {};
  return cache_->EvictionCandidates(excess, max_keys);
}

std::string CacheStateMachine::Checkpoint() {
  struct Item {
    std::string_view key;
    std::string_view value;
    int64_t deadline_ns;
  };
  std::vector<Item> items;
  items.reserve(cache_->size());
  cache_->ForEachEntry([&](std::string_view k, std::string_view v, absl::Time deadline) {
    items.push_back({k, v, UnixNs(deadline)});
  });
  std::sort(items.begin(), items.end(),
            [](const Item& a, const Item& b) { return a.key < b.key; });
  WireWriter w;
  w.PutU8(kCheckpointVersion);
  w.PutSigned(config_.capacity);
  w.PutBool(config_.weigh_bytes);
  w.PutSigned(config_.session_ttl_ns);
  w.PutSigned(config_.max_request_age_ns);
  w.PutSigned(UnixNs(log_time()));
  w.PutBool(timed_entries_hint_);
  w.PutVarint(items.size());
  for (const Item& item : items) {
    w.PutBytes(item.key);
    w.PutBytes(item.value);
    w.PutSigned(item.deadline_ns);
  }
  sessions_.Encode(w);
  return std::move(w).Finish();
}

absl::Status CacheStateMachine::Restore(std::string_view checkpoint) {
  // Whatever was applied before is replaced: entries after the checkpoint follow (again).
  applied_ = 0;
  auto reset = [this] {
    clock_ = LogClock();
    ResetCache();
    sessions_ = SessionTable(config_.session_ttl_ns, config_.max_request_age_ns);
    timed_entries_hint_ = false;
  };
  auto fail = [&reset](std::string_view why) {
    reset();
    return absl::InvalidArgumentError(absl::StrCat("cache checkpoint: ", std::string(why)));
  };
  if (checkpoint.empty()) {  // the empty initial state
    reset();
    return absl::OkStatus();
  }
  WireReader r(checkpoint);
  uint8_t version;
  ShardConfig config;
  int64_t log_time_ns;
  bool hint;
  uint64_t count;
  if (!r.GetU8(&version) || version != kCheckpointVersion) return fail("unknown version");
  if (!r.GetSigned(&config.capacity) || !r.GetBool(&config.weigh_bytes) ||
      !r.GetSigned(&config.session_ttl_ns) || !r.GetSigned(&config.max_request_age_ns) ||
      !config.Validate().ok()) {
    return fail("bad config");
  }
  if (!r.GetSigned(&log_time_ns) || !r.GetBool(&hint) ||
      !r.GetVarint(&count, kMaxCheckpointEntries)) {
    return fail("truncated header");
  }
  config_ = config;
  clock_ = LogClock();
  clock_.AdvanceTo(FromUnixNs(log_time_ns));
  ResetCache();
  std::string_view previous_key;
  for (uint64_t i = 0; i < count; ++i) {
    std::string_view key, value;
    int64_t deadline_ns;
    if (!r.GetView(&key, kMaxKeyBytes) || key.empty() || !r.GetView(&value, kMaxValueBytes) ||
        !r.GetSigned(&deadline_ns)) {
      return fail("truncated entry");
    }
    if (i > 0 && key <= previous_key) return fail("entries not sorted by key");
    previous_key = key;
    Store(key, value, FromUnixNs(deadline_ns));
  }
  sessions_ = SessionTable(config_.session_ttl_ns, config_.max_request_age_ns);
  if (absl::Status s = sessions_.Decode(r); !s.ok()) return fail(std::string(s.message()));
  if (!r.done()) return fail("trailing bytes");
  timed_entries_hint_ = hint;
  return absl::OkStatus();
}

uint64_t CacheStateMachine::Digest() {
  const std::string state = Checkpoint();
  return XXH3_64bits(state.data(), state.size());
}

}  // namespace crema::replicated
