// KvStateMachine: semantics, exactly-once sessions, checkpoints; a RapidCheck property against a
// reference map.
#include "consensus/kv/kv_state_machine.h"

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <map>
#include <string>

namespace crema::kv {
namespace {

Command Put(uint64_t session, uint64_t seq, std::string key, std::string value) {
  return {CommandKind::kPut, session, seq, std::move(key), std::move(value), std::nullopt};
}
Command Get(uint64_t session, uint64_t seq, std::string key) {
  return {CommandKind::kGet, session, seq, std::move(key), "", std::nullopt};
}
Command Del(uint64_t session, uint64_t seq, std::string key) {
  return {CommandKind::kDelete, session, seq, std::move(key), "", std::nullopt};
}
Command Cas(uint64_t session, uint64_t seq, std::string key, std::optional<std::string> expected,
            std::string value) {
  return {CommandKind::kCas, session, seq, std::move(key), std::move(value), std::move(expected)};
}

class Applier {
 public:
  Result Run(const Command& c) {
    sm.Apply(++index, EncodeCommand(c));
    const KvStateMachine::AppliedResult* r = sm.ResultAt(index);
    EXPECT_NE(r, nullptr);
    EXPECT_EQ(r->session, c.session);
    EXPECT_EQ(r->seq, c.seq);
    return r->result;
  }
  KvStateMachine sm;
  raft::Index index = 1;  // entries start after the bootstrap snapshot at 1
};

TEST(KvStateMachineTest, PutGetDeleteCas) {
  Applier a;
  EXPECT_EQ(a.Run(Get(1, 1, "k")).code, ResultCode::kNotFound);
  EXPECT_EQ(a.Run(Cas(1, 2, "k", "x", "y")).code, ResultCode::kCasFailed);
  EXPECT_EQ(a.Run(Cas(1, 3, "k", std::nullopt, "v1")).code, ResultCode::kOk);
  EXPECT_EQ(a.Run(Get(1, 4, "k")), (Result{ResultCode::kOk, "v1"}));
  EXPECT_EQ(a.Run(Cas(1, 5, "k", std::nullopt, "v2")).code, ResultCode::kCasFailed);
  EXPECT_EQ(a.Run(Cas(1, 6, "k", "v1", "v2")).code, ResultCode::kOk);
  EXPECT_EQ(a.Run(Put(1, 7, "k", "v3")).code, ResultCode::kOk);
  EXPECT_EQ(a.sm.Read("k"), "v3");
  EXPECT_EQ(a.Run(Del(1, 8, "k")).code, ResultCode::kOk);
  EXPECT_EQ(a.Run(Del(1, 9, "k")).code, ResultCode::kOk);
  EXPECT_EQ(a.sm.Read("k"), std::nullopt);
}

TEST(KvStateMachineTest, RetriedPutAppliesOnceAndReturnsTheCachedResult) {
  Applier a;
  ASSERT_EQ(a.Run(Put(1, 1, "k", "a")).code, ResultCode::kOk);
  ASSERT_EQ(a.Run(Put(2, 1, "k", "b")).code, ResultCode::kOk);
  // Client 1's put is retried (its reply was lost): it must not overwrite "b".
  EXPECT_EQ(a.Run(Put(1, 1, "k", "a")).code, ResultCode::kOk);
  EXPECT_EQ(a.sm.Read("k"), "b");
  // A retried get returns the value it read the first time.
  ASSERT_EQ(a.Run(Get(3, 1, "k")), (Result{ResultCode::kOk, "b"}));
  ASSERT_EQ(a.Run(Put(2, 2, "k", "c")).code, ResultCode::kOk);
  EXPECT_EQ(a.Run(Get(3, 1, "k")), (Result{ResultCode::kOk, "b"}));
  // A retried cas that swapped reports success again, and changes nothing.
  ASSERT_EQ(a.Run(Cas(4, 1, "k", "c", "d")).code, ResultCode::kOk);
  ASSERT_EQ(a.Run(Put(2, 3, "k", "e")).code, ResultCode::kOk);
  EXPECT_EQ(a.Run(Cas(4, 1, "k", "c", "d")).code, ResultCode::kOk);
  EXPECT_EQ(a.sm.Read("k"), "e");
}

TEST(KvStateMachineTest, LateDuplicateOfAnOlderCallIsStaleAndNotApplied) {
  Applier a;
  ASSERT_EQ(a.Run(Put(1, 1, "k", "old")).code, ResultCode::kOk);
  ASSERT_EQ(a.Run(Put(1, 3, "k", "new")).code, ResultCode::kOk);  // seq 2 was given up on
  EXPECT_EQ(a.Run(Put(1, 2, "k", "given-up")).code, ResultCode::kStale);
  EXPECT_EQ(a.Run(Put(1, 1, "k", "old")).code, ResultCode::kStale);
  EXPECT_EQ(a.sm.Read("k"), "new");
}

TEST(KvStateMachineTest, InvalidEntriesChangeNothing) {
  KvStateMachine sm;
  const uint64_t before = sm.Digest();
  sm.Apply(2, "garbage");
  sm.Apply(3, "");
  EXPECT_EQ(sm.ResultAt(2)->result.code, ResultCode::kInvalid);
  EXPECT_EQ(sm.size(), 0u);
  EXPECT_EQ(sm.last_applied(), 3u);
  EXPECT_NE(sm.Digest(), before) << "the applied index is part of the state";
}

TEST(KvStateMachineTest, SessionLimitRefusesNewSessions) {
  KvStateMachine sm;
  for (uint64_t s = 1; s <= KvStateMachine::kMaxSessions; ++s) {
    ASSERT_EQ(sm.ApplyCommand(Put(s, 1, "k", "v")).code, ResultCode::kOk);
  }
  EXPECT_EQ(sm.ApplyCommand(Put(KvStateMachine::kMaxSessions + 1, 1, "k", "x")).code,
            ResultCode::kSessionLimit);
  EXPECT_EQ(sm.Read("k"), "v");
  EXPECT_EQ(sm.ApplyCommand(Put(1, 2, "k", "y")).code, ResultCode::kOk);
}

TEST(KvStateMachineTest, RecentResultsAreBounded) {
  Applier a;
  for (uint64_t i = 1; i <= KvStateMachine::kMaxRecentResults + 10; ++i) {
    a.Run(Put(1, i, "k", "v"));
  }
  EXPECT_EQ(a.sm.ResultAt(2), nullptr);
  EXPECT_NE(a.sm.ResultAt(a.index), nullptr);
}

TEST(KvStateMachineTest, CheckpointRestoresStateAndSessions) {
  Applier a;
  a.Run(Put(1, 1, "a", "1"));
  a.Run(Put(2, 1, "b", std::string("\0\xff", 2)));
  a.Run(Get(3, 4, "a"));
  const std::string checkpoint = a.sm.Checkpoint();
  KvStateMachine restored;
  ASSERT_TRUE(restored.Restore(checkpoint).ok());
  EXPECT_EQ(restored.Digest(), a.sm.Digest());
  EXPECT_EQ(restored.last_applied(), a.index);
  EXPECT_EQ(restored.Read("b"), std::string("\0\xff", 2));
  // The session survived: a retry of client 3's get returns its cached read.
  EXPECT_EQ(restored.ApplyCommand(Get(3, 4, "a")), (Result{ResultCode::kOk, "1"}));
  EXPECT_EQ(restored.ApplyCommand(Put(1, 1, "a", "again")).code, ResultCode::kOk);
  EXPECT_EQ(restored.Read("a"), "1") << "a retried put must not apply after a restore";
}

TEST(KvStateMachineTest, RestoreRejectsCorruptCheckpoints) {
  Applier a;
  a.Run(Put(1, 1, "a", "1"));
  const std::string checkpoint = a.sm.Checkpoint();
  KvStateMachine sm;
  EXPECT_FALSE(sm.Restore(checkpoint.substr(0, checkpoint.size() - 1)).ok());
  EXPECT_FALSE(sm.Restore(checkpoint + "x").ok());
  EXPECT_FALSE(sm.Restore("nonsense").ok());
  EXPECT_EQ(sm.size(), 0u) << "a failed restore leaves the machine empty";
  EXPECT_TRUE(sm.Restore("").ok());
}

RC_GTEST_PROP(KvStateMachineProperty, MatchesAReferenceMapAndSurvivesCheckpoints,
              (std::vector<std::tuple<uint8_t, uint8_t, uint8_t, uint8_t>> ops)) {
  KvStateMachine sm;
  std::map<std::string, std::string> model;
  std::map<uint64_t, uint64_t> seqs;
  raft::Index index = 1;
  for (const auto& [kind_raw, key_raw, value_raw, client_raw] : ops) {
    const std::string key(1, static_cast<char>('a' + key_raw % 4));
    const std::string value(1, static_cast<char>('0' + value_raw % 4));
    const uint64_t client = 1 + client_raw % 3;
    const uint64_t seq = ++seqs[client];
    Command c{static_cast<CommandKind>(1 + kind_raw % 4), client, seq, key, "", std::nullopt};
    if (c.kind == CommandKind::kPut || c.kind == CommandKind::kCas) c.value = value;
    if (c.kind == CommandKind::kCas && value_raw % 3 != 0) {
      c.expected = std::string(1, static_cast<char>('0' + (value_raw / 4) % 4));
    }
    sm.Apply(++index, EncodeCommand(c));
    const Result got = sm.ResultAt(index)->result;
    auto it = model.find(key);
    switch (c.kind) {
      case CommandKind::kPut:
        model[key] = value;
        RC_ASSERT(got.code == ResultCode::kOk);
        break;
      case CommandKind::kGet:
        RC_ASSERT(got.code == (it == model.end() ? ResultCode::kNotFound : ResultCode::kOk));
        if (it != model.end()) RC_ASSERT(got.value == it->second);
        break;
      case CommandKind::kDelete:
        model.erase(key);
        break;
      case CommandKind::kCas: {
        const bool match = c.expected ? it != model.end() && it->second == *c.expected
                                      : it == model.end();
        RC_ASSERT(got.code == (match ? ResultCode::kOk : ResultCode::kCasFailed));
        if (match) model[key] = value;
        break;
      }
    }
    if (*rc::gen::inRange(0, 8) == 0) {  // a retry of this very command changes nothing
      sm.Apply(++index, EncodeCommand(c));
      RC_ASSERT(sm.ResultAt(index)->result == got);
    }
    if (*rc::gen::inRange(0, 16) == 0) {  // checkpoint and restore midway
      KvStateMachine copy;
      RC_ASSERT(copy.Restore(sm.Checkpoint()).ok());
      RC_ASSERT(copy.Digest() == sm.Digest());
      RC_ASSERT(sm.Restore(copy.Checkpoint()).ok());
    }
  }
  for (const auto& [key, value] : model) RC_ASSERT(sm.Read(key) == value);
  RC_ASSERT(sm.size() == model.size());
}

}  // namespace
}  // namespace crema::kv
