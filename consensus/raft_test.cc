// Focused unit tests of the core's contracts that scenario scripts do not show well.
#include "consensus/raft.h"

#include <set>

#include "consensus/invariants.h"
#include "gtest/gtest.h"

namespace crema::raft {
namespace {

Config MakeConfig(ReplicaId id, uint64_t seed = 7) {
  Config c;
  c.id = id;
  c.group = 9;
  c.random_seed = seed;
  return c;
}

std::unique_ptr<Raft> MustCreate(const Config& c, const InitialState& s) {
  absl::StatusOr<std::unique_ptr<Raft>> r = Raft::Create(c, s);
  EXPECT_TRUE(r.ok()) << r.status();
  return *std::move(r);
}

const absl::Time kStart = absl::UnixEpoch() + absl::Hours(1);

// Ticks until the node campaigns; returns the number of ticks.
int TicksUntilCampaign(Raft& r) {
  for (int i = 1; i <= 100; ++i) {
    r.Tick(kStart + absl::Milliseconds(100 * i));
    if (r.role() != Role::kFollower) return i;
  }
  return -1;
}

TEST(Raft, ElectionTimeoutIsRandomisedWithinBoundsAndSeeded) {
  const ConfState conf{.voters = {1, 2, 3}};
  std::set<int> seen;
  for (uint64_t seed = 0; seed < 50; ++seed) {
    auto a = MustCreate(MakeConfig(1, seed), InitialState::Bootstrap(conf));
    auto b = MustCreate(MakeConfig(1, seed), InitialState::Bootstrap(conf));
    const int ticks = TicksUntilCampaign(*a);
    EXPECT_GE(ticks, a->config().election_tick);
    EXPECT_LT(ticks, 2 * a->config().election_tick);
    EXPECT_EQ(ticks, TicksUntilCampaign(*b)) << "same seed, same timeout";
    seen.insert(ticks);
  }
  EXPECT_GT(seen.size(), 3u) << "timeouts are not randomised";
}

TEST(Raft, CreateRejectsInconsistentStorage) {
  const Config c = MakeConfig(1);
  InitialState s = InitialState::Bootstrap({.voters = {1}});
  s.entries = {Entry{.term = 1, .index = 3}};  // gap after the snapshot at 1
  EXPECT_FALSE(Raft::Create(c, s).ok());
  s.entries = {Entry{.term = 5, .index = 2}};  // term beyond the hard state
  EXPECT_FALSE(Raft::Create(c, s).ok());
  s = InitialState::Bootstrap({.voters = {1}});
  s.hard_state.commit = 9;  // commit beyond the log
  EXPECT_FALSE(Raft::Create(c, s).ok());
  Config bad = c;
  bad.heartbeat_tick = bad.election_tick;
  EXPECT_FALSE(Raft::Create(bad, InitialState::Bootstrap({.voters = {1}})).ok());
}

// After a failed, unsynced write the disk may hold a new leader's entries without the hard state
// that raised the term (the hard state record comes after the entries), or a hard state whose
// commit covers entries that did not make it: repaired, the replica opens.
TEST(Raft, RepairUnsyncedTailMakesAPartialWriteOpenable) {
  const Config c = MakeConfig(1);
  InitialState s = InitialState::Bootstrap({.voters = {1, 2, 3}});
  s.hard_state = {.term = 2, .vote = 3, .commit = 2};
  s.entries = {Entry{.term = 1, .index = 2}, Entry{.term = 4, .index = 3}};
  ASSERT_FALSE(Raft::Create(c, s).ok());  // what kept a replica down for good
  EXPECT_TRUE(s.RepairUnsyncedTail());
  EXPECT_EQ(s.hard_state.term, 4u);
  EXPECT_EQ(s.hard_state.vote, kNoReplica);  // a vote of term 2 says nothing about term 4
  EXPECT_EQ(s.hard_state.commit, 2u);
  auto r = MustCreate(c, s);
  EXPECT_EQ(r->term(), 4u);
  EXPECT_EQ(r->log().last_index(), 3u);

  InitialState commit_ahead = InitialState::Bootstrap({.voters = {1}});
  commit_ahead.hard_state.commit = 9;
  EXPECT_TRUE(commit_ahead.RepairUnsyncedTail());
  EXPECT_EQ(commit_ahead.hard_state.commit, 1u);
  EXPECT_EQ(commit_ahead.hard_state.term, 1u);
  MustCreate(c, commit_ahead);

  // A consistent state is left alone, vote included.
  InitialState fine = InitialState::Bootstrap({.voters = {1, 2, 3}});
  fine.hard_state = {.term = 5, .vote = 2, .commit = 2};
  fine.entries = {Entry{.term = 1, .index = 2}, Entry{.term = 5, .index = 3}};
  EXPECT_FALSE(fine.RepairUnsyncedTail());
  EXPECT_EQ(fine.hard_state.vote, 2u);
  EXPECT_EQ(fine.hard_state.term, 5u);
}

TEST(Raft, SingleVoterBatchesProposalsIntoOneReady) {
  auto r = MustCreate(MakeConfig(1), InitialState::Bootstrap({.voters = {1}}));
  r->Campaign();
  ASSERT_EQ(r->role(), Role::kLeader);
  Ready rd;
  while (r->HasReady()) {  // persist and apply the no-op
    rd = r->GetReady();
    r->Advance();
  }
  ASSERT_EQ(r->applied(), 2u);
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(r->Propose("p" + std::to_string(i)).ok());
  ASSERT_TRUE(r->HasReady());
  rd = r->GetReady();
  EXPECT_EQ(rd.entries.size(), 100u);  // one append, one sync
  EXPECT_TRUE(rd.must_sync);
  EXPECT_TRUE(rd.committed_entries.empty()) << "not committed before our own persist";
  r->Advance();
  rd = r->GetReady();  // now durable on the (single-voter) quorum
  EXPECT_EQ(rd.committed_entries.size(), 100u);
  r->Advance();
  EXPECT_EQ(r->applied(), r->log().last_index());
}

TEST(Raft, StepRejectsMisaddressedMessages) {
  auto r = MustCreate(MakeConfig(1), InitialState::Bootstrap({.voters = {1, 2}}));
  Message m{.type = MessageType::kHeartbeat, .group = 8, .from = 2, .to = 1, .term = 5};
  EXPECT_FALSE(r->Step(m).ok());  // wrong group
  m.group = 9;
  m.to = 3;
  EXPECT_FALSE(r->Step(m).ok());  // wrong replica
  m.to = 1;
  m.type = MessageType::kSnap;
  EXPECT_FALSE(r->Step(m).ok());  // MsgSnap without metadata
  m.type = MessageType::kHeartbeat;
  EXPECT_TRUE(r->Step(m).ok());
  EXPECT_EQ(r->leader(), 2u);
  EXPECT_EQ(r->term(), 5u);
}

// A vote request of a lower term is refused at the voter's term, so the candidate catches up
// (without pre-vote and check-quorum it would otherwise campaign below the voter for ever: raft-kv
// seed 3066261050719662566); the refusal changes no vote, and a candidate that gets it steps down
// to that term.
TEST(Raft, AStaleVoteRequestIsRefusedAtTheCurrentTerm) {
  Config c = MakeConfig(1);
  c.pre_vote = false;
  c.check_quorum = false;
  auto voter = MustCreate(c, InitialState::Bootstrap({.voters = {1, 2}}));
  Message heartbeat{.type = MessageType::kHeartbeat, .group = c.group, .from = 2, .to = 1, .term = 7};
  ASSERT_TRUE(voter->Step(heartbeat).ok());
  voter->GetReady();
  voter->Advance();
  Message stale{.type = MessageType::kVote, .group = c.group, .from = 2, .to = 1, .term = 4};
  stale.index = 100;
  stale.log_term = 100;  // an up-to-date log: only the term is stale
  ASSERT_TRUE(voter->Step(stale).ok());
  EXPECT_EQ(voter->term(), 7u);
  Ready ready = voter->GetReady();
  voter->Advance();
  ASSERT_EQ(ready.messages.size(), 1u);
  EXPECT_EQ(ready.messages[0].type, MessageType::kVoteResp);
  EXPECT_EQ(ready.messages[0].term, 7u);
  EXPECT_TRUE(ready.messages[0].reject);

  Config cc = MakeConfig(2);
  cc.pre_vote = false;
  cc.check_quorum = false;
  auto candidate = MustCreate(cc, InitialState::Bootstrap({.voters = {1, 2}}));
  candidate->Campaign();
  ASSERT_EQ(candidate->role(), Role::kCandidate);
  Message refusal = ready.messages[0];
  refusal.from = 1;
  refusal.to = 2;
  ASSERT_TRUE(candidate->Step(refusal).ok());
  EXPECT_EQ(candidate->role(), Role::kFollower);
  EXPECT_EQ(candidate->term(), 7u);
}

TEST(Raft, UncommittedBytesAreBounded) {
  Config c = MakeConfig(1);
  c.max_uncommitted_bytes = 1000;
  auto r = MustCreate(c, InitialState::Bootstrap({.voters = {1, 2, 3}}));
  r->Campaign();  // pre-vote: no answers here, so force a leader through the full protocol
  Message grant{.type = MessageType::kPreVoteResp, .group = 9, .from = 2, .to = 1, .term = 2};
  ASSERT_TRUE(r->Step(grant).ok());
  grant.type = MessageType::kVoteResp;
  ASSERT_TRUE(r->Step(grant).ok());
  ASSERT_EQ(r->role(), Role::kLeader);
  int accepted = 0;
  absl::Status st;
  while ((st = r->Propose(std::string(100, 'x'))).ok()) ++accepted;
  EXPECT_EQ(st.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_GE(accepted, 7);
  EXPECT_LE(accepted, 9);
}

TEST(Raft, CompactBeyondAppliedFails) {
  auto r = MustCreate(MakeConfig(1), InitialState::Bootstrap({.voters = {1}}));
  r->Campaign();
  r->GetReady();
  r->Advance();
  EXPECT_FALSE(r->Compact(r->applied() + 5).ok());
  r->GetReady();
  r->Advance();
  EXPECT_TRUE(r->Compact(r->applied()).ok());
  EXPECT_EQ(r->log().snapshot().index, r->applied());
}

TEST(Raft, FollowerWithoutLeaderRefusesRequests) {
  auto r = MustCreate(MakeConfig(1), InitialState::Bootstrap({.voters = {1, 2, 3}}));
  EXPECT_EQ(r->Propose("x").code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(r->ReadIndex("ctx", kStart).code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(r->TransferLeadership(2).code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(r->ProposeConfChange({ConfChangeType::kAddLearner, 4}).code(),
            absl::StatusCode::kFailedPrecondition);
}

// A leader of 3 voters elected by 2's vote; its no-op is not committed yet.
std::unique_ptr<Raft> NewLeaderWithoutCommit(Config c) {
  c.pre_vote = false;
  auto r = MustCreate(c, InitialState::Bootstrap({.voters = {1, 2, 3}}));
  r->Campaign();
  Message vote{.type = MessageType::kVoteResp, .group = c.group, .from = 2, .to = 1};
  vote.term = r->term();
  EXPECT_TRUE(r->Step(vote).ok());
  EXPECT_EQ(r->role(), Role::kLeader);
  r->GetReady();
  r->Advance();
  return r;
}

TEST(Raft, NewLeaderQueuesReadsUpToTheBoundAndRejectsTheRest) {
  Config c = MakeConfig(1);
  c.max_pending_reads = 2;
  auto r = NewLeaderWithoutCommit(c);
  ASSERT_TRUE(r->ReadIndex("a", kStart).ok());
  ASSERT_TRUE(r->ReadIndex("b", kStart).ok());
  ASSERT_TRUE(r->ReadIndex("c", kStart).ok());
  Message forwarded{.type = MessageType::kReadIndex, .group = c.group, .from = 3, .to = 1};
  forwarded.context = "d";
  ASSERT_TRUE(r->Step(forwarded).ok());
  Ready rd = r->GetReady();
  EXPECT_EQ(rd.rejected_reads, std::vector<std::string>{"c"});
  EXPECT_TRUE(rd.read_states.empty()) << "no read may be served before the no-op commits";
  bool rejected_d = false;
  for (const Message& m : rd.messages) {
    rejected_d |= m.type == MessageType::kReadIndexResp && m.to == 3 && m.reject &&
                  m.context == "d";
  }
  EXPECT_TRUE(rejected_d);
  r->Advance();
}

// A probe rejected at an index the follower already matched (a duplicate of an old reject, or a
// follower that lost entries it acknowledged) changes nothing, so it must not trigger a resend:
// answering each such reject at once let every duplicate add another append in flight, a message
// storm that grew each round (the simulator duplicates messages).
TEST(Raft, ProbeRejectsAtOrBelowMatchSendNothing) {
  Config c = MakeConfig(1);
  auto r = NewLeaderWithoutCommit(c);
  const Index noop = r->log().last_index();
  auto step = [&](Message m) {
    m.group = c.group;
    m.from = 2;
    m.to = 1;
    m.term = r->term();
    EXPECT_TRUE(r->Step(m).ok());
    Ready rd = r->GetReady();
    r->Advance();
    int appends_to_2 = 0;
    for (const Message& out : rd.messages) {
      appends_to_2 += out.type == MessageType::kApp && out.to == 2;
    }
    return appends_to_2;
  };
  (void)step({.type = MessageType::kAppResp, .index = noop});  // 2 matches the no-op
  ASSERT_TRUE(r->Propose("x").ok());
  r->GetReady();
  r->Advance();
  // 2 rejects "x" (beyond its match): back to probing from match + 1; one probe goes out.
  Message reject{.type = MessageType::kAppResp, .index = noop + 1, .reject = true};
  reject.reject_hint = noop;
  EXPECT_EQ(step(reject), 1);
  // Rejects at the matched index itself, twice (a duplicate): nothing to do, nothing sent.
  Message below{.type = MessageType::kAppResp, .index = noop, .reject = true};
  below.reject_hint = noop - 1;
  EXPECT_EQ(step(below), 0);
  EXPECT_EQ(step(below), 0);
}

// A single voter elects itself at once: its new term exists only in memory until its Ready is
// persisted (durable_term). If that Sync never happens (a crash, a full disk), the term left no
// trace and nothing reached anyone, and the restarted node may lead the same term again with a
// different log. The invariant checker counts a leadership only once its term is durable, so it
// does not call that two leaders of one term (or a leader that changed its log) — and it still
// would, once the first leadership was durable.
TEST(Raft, ALeadershipCountsForTheInvariantsOnceItsTermIsDurable) {
  Config c = MakeConfig(1);
  c.pre_vote = false;
  const InitialState boot = InitialState::Bootstrap({.voters = {1}});
  InvariantChecker checker;
  auto lead_with = [&](std::string data, bool persist) {
    auto r = MustCreate(c, boot);
    r->GetReady();
    r->Advance();
    r->Campaign();
    EXPECT_EQ(r->role(), Role::kLeader);
    EXPECT_TRUE(r->Propose(std::move(data)).ok());
    if (persist) {
      r->GetReady();
      r->Advance();
    }
    return r;
  };
  auto first = lead_with("a", /*persist=*/false);
  EXPECT_LT(first->durable_term(), first->term());
  EXPECT_TRUE(checker.Check({ViewOf(*first)}).ok());
  // The crash lost everything after the bootstrap: the same term again, another entry.
  auto second = lead_with("b", /*persist=*/true);
  EXPECT_EQ(second->term(), first->term());
  EXPECT_EQ(second->durable_term(), second->term());
  EXPECT_TRUE(checker.Check({ViewOf(*second)}).ok());
  // A durable leadership of that term that then shows another log is a violation.
  auto third = lead_with("c", /*persist=*/true);
  EXPECT_FALSE(checker.Check({ViewOf(*third)}).ok());
}

TEST(Raft, LeaderThatLosesItsTermRejectsQueuedLocalReads) {
  auto r = NewLeaderWithoutCommit(MakeConfig(1));
  ASSERT_TRUE(r->ReadIndex("a", kStart).ok());
  Message app{.type = MessageType::kApp, .group = 9, .from = 2, .to = 1, .term = r->term() + 1};
  ASSERT_TRUE(r->Step(app).ok());
  EXPECT_EQ(r->role(), Role::kFollower);
  EXPECT_EQ(r->GetReady().rejected_reads, std::vector<std::string>{"a"});
  r->Advance();
}

TEST(Raft, QuietFollowerIgnoresTicksUntilWoken) {
  Config c = MakeConfig(2);
  c.quiesce = true;
  auto r = MustCreate(c, InitialState::Bootstrap({.voters = {1, 2, 3}}));
  Message hb{.type = MessageType::kHeartbeat, .group = 9, .from = 1, .to = 2, .term = 2};
  hb.quiesce = true;
  ASSERT_TRUE(r->Step(hb).ok());
  EXPECT_TRUE(r->quiesced());
  r->GetReady();
  r->Advance();
  for (int i = 1; i <= 100; ++i) r->Tick(kStart + absl::Milliseconds(100 * i));
  EXPECT_EQ(r->role(), Role::kFollower) << "a quiet follower must not campaign";
  r->ReportPeerDown(3);  // not the leader: nothing changes
  EXPECT_TRUE(r->quiesced());
  r->ReportPeerDown(1);
  EXPECT_FALSE(r->quiesced());
  int ticks = 0;
  while (r->role() == Role::kFollower && ticks < 100) {
    ++ticks;
    r->Tick(kStart + absl::Seconds(10) + absl::Milliseconds(100 * ticks));
  }
  EXPECT_GE(ticks, c.election_tick) << "woken: a full election timeout before campaigning";
  EXPECT_LT(ticks, 2 * c.election_tick);
}

}  // namespace
}  // namespace crema::raft
