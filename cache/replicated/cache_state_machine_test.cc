// CacheStateMachine: command semantics, exactly-once, checkpoints — and THE RULE: replicas that
// apply the same log hold identical data at every index, whatever each one reads locally and
// whatever its own clock says, with the leader's policy choosing evictions.
#include "cache/replicated/cache_state_machine.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "node/random.h"
#include "sim/test_seed.h"

namespace crema::replicated {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1'800'000'000);

ShardConfig Config(int64_t capacity) {
  ShardConfig c;
  c.capacity = capacity;
  c.session_ttl_ns = absl::ToInt64Nanoseconds(absl::Seconds(60));
  c.max_request_age_ns = absl::ToInt64Nanoseconds(absl::Seconds(10));
  return c;
}

// Builds commands the way an origin node and a leader would.
class Proposer {
 public:
  Command Client(CommandKind kind, std::string key, absl::Time now) {
    Command c;
    c.kind = kind;
    c.key = std::move(key);
    c.session = 77;
    c.seq = ++seq_;
    c.ack_floor = c.seq;  // one call at a time
    c.issued_unix_ns = absl::ToUnixNanos(now);
    c.stamp_unix_ns = absl::ToUnixNanos(now);
    return c;
  }
  uint64_t seq() const { return seq_; }

 private:
  uint64_t seq_ = 0;
};

Result Apply(CacheStateMachine& sm, raft::Index& index, const Command& c) {
  absl::StatusOr<Result> r = DecodeResult(sm.ApplyWithResult(++index, EncodeCommand(c)));
  EXPECT_TRUE(r.ok());
  return r.ok() ? *r : Result{ResultCode::kInvalid};
}

TEST(CacheStateMachineTest, PutsConditionsAndPreviousValues) {
  CacheStateMachine sm(Config(100));
  Proposer p;
  raft::Index i = 0;
  Command put = p.Client(CommandKind::kPut, "k", kT0);
  put.value = "v1";
  EXPECT_EQ(Apply(sm, i, put).code, ResultCode::kOk);
  Command nx = p.Client(CommandKind::kPut, "k", kT0);
  nx.value = "v2";
  nx.condition = PutCondition::kIfAbsent;
  nx.return_previous = true;
  Result r = Apply(sm, i, nx);
  EXPECT_EQ(r.code, ResultCode::kNotApplied);
  EXPECT_EQ(r.value, "v1");
  Command xx = p.Client(CommandKind::kPut, "k", kT0);
  xx.value = "v3";
  xx.condition = PutCondition::kIfPresent;
  xx.return_previous = true;
  r = Apply(sm, i, xx);
  EXPECT_EQ(r.code, ResultCode::kOk);
  EXPECT_EQ(r.value, "v1");
  EXPECT_EQ(sm.Read("k", kT0), "v3");
  Result del = Apply(sm, i, p.Client(CommandKind::kDelete, "k", kT0));
  EXPECT_EQ(del.value, "v3");
  EXPECT_EQ(sm.Read("k", kT0), std::nullopt);
  EXPECT_EQ(Apply(sm, i, p.Client(CommandKind::kDelete, "k", kT0)).value, std::nullopt);
}

// The purge of a dropped keyspace: every key with the prefix goes, on every replica alike, and
// nothing else; a retry (same session and sequence) is answered, not applied again.
TEST(CacheStateMachineTest, DeletePrefixRemovesExactlyThePrefixedKeys) {
  CacheStateMachine sm(Config(1000));
  CacheStateMachine other(Config(1000));
  Proposer p;
  raft::Index i = 0, j = 0;
  for (const char* key : {"\xffks\x83\x01:a", "\xffks\x83\x01:b", "\xffks\x83\x02:a", "\xffks\x83", "plain"}) {
    Command put = p.Client(CommandKind::kPut, key, kT0);
    put.value = "v";
    Apply(sm, i, put);
    Apply(other, j, put);
  }
  const Command purge = p.Client(CommandKind::kDeletePrefix, "\xffks\x83\x01:", kT0);
  Result r = Apply(sm, i, purge);
  EXPECT_EQ(r.code, ResultCode::kOk);
  EXPECT_EQ(r.integer, 2);
  EXPECT_EQ(sm.Read("\xffks\x83\x01:a", kT0), std::nullopt);
  EXPECT_EQ(sm.Read("\xffks\x83\x01:b", kT0), std::nullopt);
  EXPECT_EQ(sm.Read("\xffks\x83\x02:a", kT0), "v");
  EXPECT_EQ(sm.Read("\xffks\x83", kT0), "v");
  EXPECT_EQ(sm.Read("plain", kT0), "v");
  EXPECT_EQ(Apply(sm, i, purge).integer, 2);  // the session's recorded answer
  Apply(other, j, purge);
  Apply(other, j, purge);
  EXPECT_EQ(other.Digest(), sm.Digest());
}

TEST(CacheStateMachineTest, CasAndIncrement) {
  CacheStateMachine sm(Config(100));
  Proposer p;
  raft::Index i = 0;
  Command cas = p.Client(CommandKind::kCas, "c", kT0);
  cas.value = "a";  // expected = nullopt: only if absent
  EXPECT_EQ(Apply(sm, i, cas).code, ResultCode::kOk);
  cas = p.Client(CommandKind::kCas, "c", kT0);
  cas.value = "b";
  EXPECT_EQ(Apply(sm, i, cas).code, ResultCode::kNotApplied);
  cas = p.Client(CommandKind::kCas, "c", kT0);
  cas.expected = "a";
  cas.value = "b";
  EXPECT_EQ(Apply(sm, i, cas).code, ResultCode::kOk);
  EXPECT_EQ(sm.Read("c", kT0), "b");

  Command inc = p.Client(CommandKind::kIncrement, "n", kT0);
  inc.delta = 5;
  EXPECT_EQ(Apply(sm, i, inc).integer, 5);
  inc = p.Client(CommandKind::kIncrement, "n", kT0);
  inc.delta = -7;
  EXPECT_EQ(Apply(sm, i, inc).integer, -2);
  EXPECT_EQ(sm.Read("n", kT0), "-2");
  inc = p.Client(CommandKind::kIncrement, "c", kT0);  // "b" is not an integer
  inc.delta = 1;
  EXPECT_EQ(Apply(sm, i, inc).code, ResultCode::kNotInteger);
  Command big = p.Client(CommandKind::kPut, "big", kT0);
  big.value = "9223372036854775807";
  Apply(sm, i, big);
  inc = p.Client(CommandKind::kIncrement, "big", kT0);
  inc.delta = 1;
  EXPECT_EQ(Apply(sm, i, inc).code, ResultCode::kNotInteger);  // overflow
  EXPECT_EQ(sm.Read("big", kT0), "9223372036854775807");
  for (const char* bad : {"", " 1", "+1", "01", "-0", "1.0", "99999999999999999999"}) {
    EXPECT_FALSE(ParseStrictInt64(bad).has_value()) << bad;
  }
  EXPECT_EQ(ParseStrictInt64("-9223372036854775808"), INT64_MIN);
  EXPECT_EQ(ParseStrictInt64("0"), 0);
}

// EXPIRE NX | XX | GT | LT as redis-server 7.0 answers them (checked against it by hand with the
// same sequence): no deadline counts as infinite; the condition is judged when applied.
TEST(CacheStateMachineTest, ConditionalExpireFollowsRedis) {
  CacheStateMachine sm(Config(100));
  Proposer p;
  raft::Index i = 0;
  const auto put = [&](std::string key) {
    Command c = p.Client(CommandKind::kPut, std::move(key), kT0);
    c.value = "v";
    Apply(sm, i, c);
  };
  // EXPIRE key <seconds> with a condition, at log time kT0; true if applied.
  const auto expire = [&](std::string key, int64_t seconds, ExpireCondition when) {
    Command c = p.Client(CommandKind::kExpireIf, std::move(key), kT0);
    c.expire_condition = when;
    c.expiry = seconds > 0 ? Expiry{ExpiryKind::kAfter, seconds * 1'000'000'000}
                           : Expiry{ExpiryKind::kAt, absl::ToUnixNanos(kT0) + seconds};
    return Apply(sm, i, c).code == ResultCode::kOk;
  };
  const ExpireCondition nx{.if_no_expiry = true}, xx{.if_has_expiry = true};
  const ExpireCondition gt{.if_greater = true}, lt{.if_less = true};
  const ExpireCondition xx_gt{.if_has_expiry = true, .if_greater = true};
  const ExpireCondition xx_lt{.if_has_expiry = true, .if_less = true};
  const auto ttl = [&](std::string_view key) { return *sm.DeadlineOf(key, kT0) - kT0; };

  put("k");  // no deadline
  EXPECT_FALSE(expire("k", 10, gt));  // infinite is never exceeded
  EXPECT_FALSE(expire("k", 10, xx));
  EXPECT_FALSE(expire("k", 10, xx_lt));
  EXPECT_EQ(*sm.DeadlineOf("k", kT0), absl::InfiniteFuture());
  EXPECT_TRUE(expire("k", 10, lt));  // anything is less than infinite
  EXPECT_EQ(ttl("k"), absl::Seconds(10));
  EXPECT_FALSE(expire("k", 20, lt));
  EXPECT_FALSE(expire("k", 10, lt));  // equal is not less
  EXPECT_TRUE(expire("k", 5, lt));
  EXPECT_FALSE(expire("k", 5, gt));   // equal is not greater
  EXPECT_TRUE(expire("k", 6, gt));
  EXPECT_FALSE(expire("k", 100, nx));  // has a deadline
  EXPECT_TRUE(expire("k", 100, xx_gt));
  EXPECT_TRUE(expire("k", 50, xx_lt));
  EXPECT_EQ(ttl("k"), absl::Seconds(50));
  put("n");
  EXPECT_TRUE(expire("n", 30, nx));
  EXPECT_EQ(ttl("n"), absl::Seconds(30));
  EXPECT_TRUE(expire("n", 40, xx));
  EXPECT_EQ(ttl("n"), absl::Seconds(40));
  // Absent keys: 0 whatever the condition.
  EXPECT_FALSE(expire("absent", 10, nx));
  EXPECT_FALSE(expire("absent", 10, lt));
  // A deadline in the past deletes the key when the condition holds, and only then.
  put("g");
  EXPECT_FALSE(expire("g", -5, gt));
  EXPECT_EQ(sm.Read("g", kT0), "v");
  EXPECT_TRUE(expire("g", -5, lt));
  EXPECT_EQ(sm.Read("g", kT0), std::nullopt);
}

TEST(CacheStateMachineTest, BytesCountKeysValuesAndOverhead) {
  ShardConfig bytes_config = Config(1 << 20);
  bytes_config.weigh_bytes = true;
  for (const ShardConfig& config : {Config(100), bytes_config}) {
    CacheStateMachine sm(config);
    Proposer p;
    raft::Index i = 0;
    Command put = p.Client(CommandKind::kPut, "key", kT0);
    put.value = std::string(100, 'v');
    Apply(sm, i, put);
    put = p.Client(CommandKind::kPut, "key", kT0);
    put.value = std::string(10, 'w');  // replaced: the old value's bytes go
    Apply(sm, i, put);
    put = p.Client(CommandKind::kPut, "gone", kT0);
    put.value = "x";
    put.expiry = {ExpiryKind::kAt, absl::ToUnixNanos(kT0 - absl::Seconds(1))};  // never stored
    Apply(sm, i, put);
    EXPECT_EQ(sm.bytes(), 3 + 10 + CacheStateMachine::kEntryOverheadBytes);
    if (config.weigh_bytes) {
      EXPECT_EQ(sm.bytes(), sm.weight());
    }
    Apply(sm, i, p.Client(CommandKind::kDelete, "key", kT0));
    EXPECT_EQ(sm.bytes(), 0);
    Command again = p.Client(CommandKind::kPut, "k2", kT0);
    again.value = "abc";
    Apply(sm, i, again);
    CacheStateMachine restored(config);
    ASSERT_TRUE(restored.Restore(sm.Checkpoint()).ok());
    EXPECT_EQ(restored.bytes(), 2 + 3 + CacheStateMachine::kEntryOverheadBytes);
  }
}

TEST(CacheStateMachineTest, TtlsAreJudgedByLogTimeAndReadersClocks) {
  CacheStateMachine sm(Config(100));
  Proposer p;
  raft::Index i = 0;
  Command put = p.Client(CommandKind::kPut, "t", kT0);
  put.value = "v";
  put.expiry = {ExpiryKind::kAfter, absl::ToInt64Nanoseconds(absl::Seconds(10))};
  Apply(sm, i, put);
  EXPECT_EQ(*sm.DeadlineOf("t", kT0), kT0 + absl::Seconds(10));
  // A reader whose clock has passed the deadline never sees it, though log time lags.
  EXPECT_EQ(sm.Read("t", kT0 + absl::Seconds(9)), "v");
  EXPECT_EQ(sm.Read("t", kT0 + absl::Seconds(10)), std::nullopt);
  // Log time is the maximum stamp: a leader with a slow clock cannot move it back.
  Command tick;
  tick.kind = CommandKind::kTick;
  tick.stamp_unix_ns = absl::ToUnixNanos(kT0 + absl::Seconds(11));
  Apply(sm, i, tick);
  EXPECT_EQ(sm.size(), 0);  // the tick dropped it on every replica
  EXPECT_EQ(sm.log_time(), kT0 + absl::Seconds(11));
  Command slow = p.Client(CommandKind::kPut, "s", kT0 + absl::Seconds(1));
  slow.value = "v";
  slow.expiry = {ExpiryKind::kAfter, absl::ToInt64Nanoseconds(absl::Seconds(5))};
  Apply(sm, i, slow);
  EXPECT_EQ(sm.log_time(), kT0 + absl::Seconds(11));
  EXPECT_EQ(*sm.DeadlineOf("s", kT0), kT0 + absl::Seconds(16));

  // EXPIRE, PERSIST, KEEPTTL, GETEX, EXAT in the past.
  Command persist = p.Client(CommandKind::kExpire, "s", kT0 + absl::Seconds(11));
  persist.expiry = {ExpiryKind::kNever, 0};
  EXPECT_EQ(Apply(sm, i, persist).code, ResultCode::kOk);
  EXPECT_EQ(*sm.DeadlineOf("s", kT0), absl::InfiniteFuture());
  persist = p.Client(CommandKind::kExpire, "s", kT0 + absl::Seconds(11));
  persist.expiry = {ExpiryKind::kNever, 0};
  EXPECT_EQ(Apply(sm, i, persist).code, ResultCode::kNotApplied);  // had no TTL
  Command keep = p.Client(CommandKind::kPut, "s", kT0 + absl::Seconds(11));
  keep.value = "w";
  keep.expiry = {ExpiryKind::kKeep, 0};
  Apply(sm, i, keep);
  EXPECT_EQ(*sm.DeadlineOf("s", kT0), absl::InfiniteFuture());
  Command getex = p.Client(CommandKind::kGetAndTouch, "s", kT0 + absl::Seconds(11));
  getex.touch = true;
  getex.expiry = {ExpiryKind::kAt, absl::ToUnixNanos(kT0 + absl::Seconds(100))};
  EXPECT_EQ(Apply(sm, i, getex).value, "w");
  EXPECT_EQ(*sm.DeadlineOf("s", kT0), kT0 + absl::Seconds(100));
  Command past = p.Client(CommandKind::kExpire, "s", kT0 + absl::Seconds(11));
  past.expiry = {ExpiryKind::kAt, absl::ToUnixNanos(kT0)};
  EXPECT_EQ(Apply(sm, i, past).code, ResultCode::kOk);
  EXPECT_EQ(sm.Read("s", kT0), std::nullopt);
  Command missing = p.Client(CommandKind::kExpire, "nope", kT0 + absl::Seconds(11));
  missing.expiry = {ExpiryKind::kAfter, 1};
  EXPECT_EQ(Apply(sm, i, missing).code, ResultCode::kNotApplied);
  // INCR creating a key gives it the default TTL carried by the command.
  Command inc = p.Client(CommandKind::kIncrement, "n", kT0 + absl::Seconds(11));
  inc.delta = 1;
  inc.default_ttl_ns = absl::ToInt64Nanoseconds(absl::Seconds(30));
  Apply(sm, i, inc);
  EXPECT_EQ(*sm.DeadlineOf("n", kT0), kT0 + absl::Seconds(41));
}

TEST(CacheStateMachineTest, RetriesApplyOnceAndInvalidEntriesChangeNothing) {
  CacheStateMachine sm(Config(100));
  Proposer p;
  raft::Index i = 0;
  Command inc = p.Client(CommandKind::kIncrement, "n", kT0);
  inc.delta = 1;
  EXPECT_EQ(Apply(sm, i, inc).integer, 1);
  EXPECT_EQ(Apply(sm, i, inc).integer, 1);  // the same (session, seq) again: cached answer
  EXPECT_EQ(sm.Read("n", kT0), "1");
  const uint64_t before = sm.Digest();
  EXPECT_EQ(DecodeResult(sm.ApplyWithResult(++i, "garbage"))->code, ResultCode::kInvalid);
  EXPECT_EQ(sm.Digest(), before);
}

TEST(CacheStateMachineTest, CheckpointRestoresEverythingAndRejectsGarbage) {
  CacheStateMachine sm(Config(100));
  Proposer p;
  raft::Index i = 0;
  for (int k = 0; k < 20; ++k) {
    Command put = p.Client(CommandKind::kPut, absl::StrCat("k", k), kT0);
    put.value = absl::StrCat("v", k);
    if (k % 3 == 0) put.expiry = {ExpiryKind::kAfter, absl::ToInt64Nanoseconds(absl::Seconds(k + 1))};
    Apply(sm, i, put);
  }
  const std::string checkpoint = sm.Checkpoint();
  CacheStateMachine copy(Config(5));  // restoring also restores the shard's config
  ASSERT_TRUE(copy.Restore(checkpoint).ok());
  EXPECT_EQ(copy.Digest(), sm.Digest());
  EXPECT_EQ(copy.config().capacity, 100);
  EXPECT_EQ(copy.Read("k4", kT0), "v4");
  EXPECT_EQ(copy.log_time(), sm.log_time());
  for (size_t cut = 1; cut < checkpoint.size(); cut += 7) {
    CacheStateMachine broken(Config(5));
    EXPECT_FALSE(broken.Restore(checkpoint.substr(0, cut)).ok()) << cut;
    EXPECT_EQ(broken.size(), 0);
  }
  CacheStateMachine empty(Config(5));
  EXPECT_TRUE(empty.Restore("").ok());
  EXPECT_EQ(empty.size(), 0);
}

// THE RULE. Three replicas apply one log; each reads different keys locally with its own clock
// (reads change only policy state); the leader (replica 0, then 1 after a "failover") proposes
// evictions from its own policy; TTL'd writes expire by log time. After every entry the three
// checkpoints are byte-identical.
void RunReplicas(uint64_t seed) {
  Random random(seed);
  std::vector<std::unique_ptr<CacheStateMachine>> replicas;
  for (int r = 0; r < 3; ++r) replicas.push_back(std::make_unique<CacheStateMachine>(Config(30)));
  Proposer p;
  raft::Index index = 0;
  absl::Time now = kT0;
  auto apply_all = [&](const Command& c) {
    ++index;
    const std::string entry = EncodeCommand(c);
    std::string first;
    for (size_t r = 0; r < replicas.size(); ++r) {
      const std::string result = replicas[r]->ApplyWithResult(index, entry);
      if (r == 0) first = result;
      ASSERT_EQ(result, first) << "results differ at index " << index;
    }
  };
  for (int step = 0; step < 3000; ++step) {
    now += absl::Milliseconds(random.Uniform(50));
    const size_t leader = step < 1500 ? 0 : 1;
    // Local reads, different on each replica, with clocks up to 200 ms apart.
    for (size_t r = 0; r < replicas.size(); ++r) {
      for (int n = random.Uniform(4); n > 0; --n) {
        (void)replicas[r]->Read(absl::StrCat("k", random.Uniform(r == 2 ? 5 : 80)),
                                now + absl::Milliseconds(static_cast<int64_t>(r) * 100));
      }
    }
    const std::string key = absl::StrCat("k", random.Uniform(80));
    Command c;
    switch (random.Uniform(6)) {
      case 0:
      case 1:
        c = p.Client(CommandKind::kPut, key, now);
        c.value = absl::StrCat("v", step);
        if (random.OneIn(3)) c.expiry = {ExpiryKind::kAfter, absl::ToInt64Nanoseconds(absl::Seconds(1 + random.Uniform(20)))};
        break;
      case 2:
        c = p.Client(CommandKind::kIncrement, key, now);
        c.delta = 1;
        break;
      case 3:
        c = p.Client(CommandKind::kCas, key, now);
        c.expected = absl::StrCat("v", step - 1 - static_cast<int>(random.Uniform(3)));
        c.value = absl::StrCat("c", step);
        break;
      case 4:
        c = p.Client(CommandKind::kExpire, key, now);
        c.expiry = {ExpiryKind::kAfter, absl::ToInt64Nanoseconds(absl::Seconds(1 + random.Uniform(5)))};
        break;
      default:
        c = p.Client(CommandKind::kDelete, key, now);
    }
    // Stamps come from the leader's clock, which may run behind: log time must not go back.
    c.stamp_unix_ns = absl::ToUnixNanos(now - absl::Milliseconds(leader == 1 ? 300 : 0));
    apply_all(c);
    if (::testing::Test::HasFatalFailure()) return;
    std::vector<std::string> victims = replicas[leader]->EvictionCandidates(64);
    if (!victims.empty()) {
      Command evict;
      evict.kind = CommandKind::kEvict;
      evict.keys = std::move(victims);
      evict.stamp_unix_ns = absl::ToUnixNanos(now);
      apply_all(evict);
      if (::testing::Test::HasFatalFailure()) return;
      ASSERT_LE(replicas[leader]->weight(), replicas[leader]->capacity());
    }
    if (step % 50 == 0) {
      const std::string reference = replicas[0]->Checkpoint();
      for (size_t r = 1; r < replicas.size(); ++r) {
        ASSERT_EQ(replicas[r]->Checkpoint(), reference)
            << "replica " << r << " diverged at index " << index << " seed " << seed;
      }
    }
  }
  EXPECT_GT(replicas[0]->cache_stats().removals_size, 0) << "the workload never evicted";
}

TEST(CacheStateMachineTest, ReplicasStayIdenticalUnderLocalReadsEvictionAndExpiry) {
  for (uint64_t seed : sim::TestSeeds(5)) {
    RunReplicas(seed);
    if (HasFatalFailure()) {
      ADD_FAILURE() << "reproduce: " << sim::ReproCommand(seed);
      return;
    }
  }
}

}  // namespace
}  // namespace crema::replicated
