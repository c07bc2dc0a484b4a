// Rpc: the codec (round trips, garbage never crashes and is refused) and the endpoint in the
// simulator (calls and replies, errors carried as statuses, timeouts and late replies, map-version
// piggyback, the server's inflight/queue bounds answering kBusy, duplicated requests, shutdown,
// calls to a peer the network reports gone failing early).
#include "node/forward/rpc.h"

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <memory>
#include <optional>

#include "sim/simulator.h"
#include "sim/test_seed.h"

namespace crema::forward {
namespace {

using sim::Simulator;

RC_GTEST_PROP(RpcCodecTest, RequestsAndRepliesRoundTrip,
              (uint64_t id, uint64_t group, uint64_t version, uint32_t timeout_ms,
               std::string payload, uint8_t kind_pick, uint8_t status_pick, uint32_t hint)) {
  Request q;
  q.id = id;
  q.kind = static_cast<RequestKind>(1 + kind_pick % kMaxRequestKind);
  q.group = group;
  q.map_version = version;
  q.timeout = absl::Milliseconds(timeout_ms);
  q.payload = payload;
  absl::StatusOr<Decoded> d = DecodeMessage(EncodeRequest(q));
  RC_ASSERT(d.ok());
  RC_ASSERT(d->request != nullptr);
  RC_ASSERT(d->reply == nullptr);
  RC_ASSERT(d->request->id == id && d->request->kind == q.kind && d->request->group == group &&
            d->request->map_version == version && d->request->timeout == q.timeout &&
            d->request->payload == payload);

  Reply p;
  p.id = id;
  p.status = static_cast<ReplyStatus>(1 + status_pick % 6);
  p.leader_hint = static_cast<NodeId>(hint);
  p.map_version = version;
  p.payload = payload;
  d = DecodeMessage(EncodeReply(p));
  RC_ASSERT(d.ok());
  RC_ASSERT(d->reply != nullptr);
  RC_ASSERT(d->request == nullptr);
  RC_ASSERT(d->reply->id == id && d->reply->status == p.status &&
            d->reply->leader_hint == p.leader_hint && d->reply->map_version == version &&
            d->reply->payload == payload);
}

RC_GTEST_PROP(RpcCodecTest, GarbageAndTruncationsAreRefusedNeverCrash,
              (std::string garbage, uint64_t id, std::string payload)) {
  (void)DecodeMessage(garbage);  // must not crash; may happen to decode
  Request q;
  q.id = id;
  q.payload = payload;
  const std::string bytes = EncodeRequest(q);
  for (size_t cut = 0; cut < bytes.size(); ++cut) {
    RC_ASSERT(!DecodeMessage(std::string_view(bytes).substr(0, cut)).ok());
  }
  RC_ASSERT(!DecodeMessage(bytes + "x").ok());  // trailing bytes
}

TEST(RpcCodecTest, OutOfRangeFieldsAreRefused) {
  Request q;
  q.kind = RequestKind::kStatus;
  std::string bytes = EncodeRequest(q);
  bytes[3] = static_cast<char>(kMaxRequestKind + 1);  // version, type, id(1 byte), kind
  EXPECT_FALSE(DecodeMessage(bytes).ok());
  bytes[3] = 0;
  EXPECT_FALSE(DecodeMessage(bytes).ok());
  Reply p;
  bytes = EncodeReply(p);
  bytes[3] = 7;  // status beyond kError
  EXPECT_FALSE(DecodeMessage(bytes).ok());
  q.timeout = absl::Nanoseconds(-1);
  EXPECT_FALSE(DecodeMessage(EncodeRequest(q)).ok());
}

TEST(RpcCodecTest, ErrorRepliesCarryTheirStatus) {
  Reply r = Reply::Error(absl::FailedPreconditionError("value is not an integer: a:b"));
  EXPECT_EQ(r.status, ReplyStatus::kError);
  EXPECT_EQ(r.ErrorStatus(), absl::FailedPreconditionError("value is not an integer: a:b"));
  Reply ok;
  EXPECT_TRUE(absl::IsInternal(ok.ErrorStatus()));
  Reply bad;
  bad.status = ReplyStatus::kError;
  bad.payload = "no colon";
  EXPECT_TRUE(absl::IsInternal(bad.ErrorStatus()));
  bad.payload = "99:out of range code";
  EXPECT_TRUE(absl::IsInternal(bad.ErrorStatus()));
}

// A node with one Rpc endpoint whose map version the test sets.
class RpcNode final : public sim::NodeProgram {
 public:
  // `wire_hints`: the network's reachability hints go to the Rpc (as CacheNode wires them).
  explicit RpcNode(Env env, bool wire_hints = false)
      : env(env), rpc(env, [this] { return map_version; }) {
    rpc.SetOnPeerMapVersion([this](NodeId peer, uint64_t version) {
      newer_seen.emplace_back(peer, version);
    });
    if (wire_hints) {
      env.network->SetPeerHandler([this](NodeId peer, bool reachable) {
        hints.emplace_back(peer, reachable);
        rpc.SetPeerReachable(peer, reachable);
      });
    }
  }
  Env env;
  uint64_t map_version = 0;
  Rpc rpc;
  std::vector<std::pair<NodeId, uint64_t>> newer_seen;
  std::vector<std::pair<NodeId, bool>> hints;
};

class RpcSimTest : public ::testing::Test {
 protected:
  void SetUpNodes(sim::SimOptions options, int count, bool wire_hints = false) {
    sim_ = std::make_unique<Simulator>(options);
    for (NodeId id = 1; id <= static_cast<NodeId>(count); ++id) {
      sim_->AddNode(id, [wire_hints](Env env) { return std::make_unique<RpcNode>(env, wire_hints); });
    }
    sim_->StartAll();
  }
  RpcNode& Node(NodeId id) { return *static_cast<RpcNode*>(sim_->program(id)); }
  // Spawns a fiber on `from` that calls `to` and stores the outcome in `*out`.
  void CallFrom(NodeId from, NodeId to, Request request, absl::Duration timeout,
                std::optional<absl::StatusOr<Reply>>* out) {
    RpcNode* node = &Node(from);
    node->env.executor->Spawn("call", [node, to, request, timeout, out]() mutable {
      *out = node->rpc.Call(to, std::move(request), timeout);
    });
  }

  std::unique_ptr<Simulator> sim_;
};

TEST_F(RpcSimTest, CallsReachTheirHandlerAndRepliesCarryStatusAndMapVersion) {
  SetUpNodes(sim::SimOptions{.seed = sim::TestSeed()}, 2);
  Node(2).map_version = 7;
  Node(2).rpc.SetHandler(RequestKind::kRead, [](NodeId from, const Request& q) {
    Reply r;
    r.payload = absl::StrCat("from ", from, " group ", q.group, ": ", q.payload);
    return r;
  });
  Node(2).rpc.SetHandler(RequestKind::kWrite, [](NodeId, const Request&) {
    Reply r;
    r.status = ReplyStatus::kNotLeader;
    r.leader_hint = 3;
    return r;
  });
  std::optional<absl::StatusOr<Reply>> read, write, unknown_kind;
  Request q;
  q.kind = RequestKind::kRead;
  q.group = 16;
  q.payload = "k";
  CallFrom(1, 2, q, absl::Seconds(1), &read);
  q.kind = RequestKind::kWrite;
  CallFrom(1, 2, q, absl::Seconds(1), &write);
  q.kind = RequestKind::kStatus;  // no handler installed
  CallFrom(1, 2, q, absl::Seconds(1), &unknown_kind);
  sim_->RunFor(absl::Seconds(2));

  ASSERT_TRUE(read.has_value() && read->ok()) << (read ? read->status().ToString() : "none");
  EXPECT_EQ((*read)->status, ReplyStatus::kOk);
  EXPECT_EQ((*read)->payload, "from 1 group 16: k");
  EXPECT_EQ((*read)->map_version, 7u);
  ASSERT_TRUE(write.has_value() && write->ok());
  EXPECT_EQ((*write)->status, ReplyStatus::kNotLeader);
  EXPECT_EQ((*write)->leader_hint, 3u);
  ASSERT_TRUE(unknown_kind.has_value() && unknown_kind->ok());
  EXPECT_TRUE(absl::IsUnimplemented((*unknown_kind)->ErrorStatus()));
  // Node 1 saw node 2's newer map version.
  ASSERT_FALSE(Node(1).newer_seen.empty());
  EXPECT_EQ(Node(1).newer_seen.front(), (std::pair<NodeId, uint64_t>{2, 7}));
  EXPECT_EQ(Node(1).rpc.stats().calls, 3u);
  EXPECT_EQ(Node(2).rpc.stats().served, 3u);
}

TEST_F(RpcSimTest, ACallToADownNodeTimesOutAndItsLateReplyIsDropped) {
  SetUpNodes(sim::SimOptions{.seed = sim::TestSeed()}, 2);
  Node(2).rpc.SetHandler(RequestKind::kRead, [&](NodeId, const Request& q) {
    // Answers after the caller's budget: the reply arrives late.
    (void)Node(2).env.executor->Sleep(q.timeout + absl::Milliseconds(100));
    return Reply{};
  });
  std::optional<absl::StatusOr<Reply>> slow;
  Request q;
  q.kind = RequestKind::kRead;
  CallFrom(1, 2, q, absl::Milliseconds(200), &slow);
  sim_->RunFor(absl::Seconds(1));
  ASSERT_TRUE(slow.has_value());
  EXPECT_TRUE(absl::IsDeadlineExceeded(slow->status())) << slow->status();
  EXPECT_EQ(Node(1).rpc.stats().timeouts, 1u);
  EXPECT_EQ(Node(1).rpc.stats().dropped, 1u);  // the late reply

  sim_->Crash(2);
  std::optional<absl::StatusOr<Reply>> to_down;
  CallFrom(1, 2, q, absl::Milliseconds(300), &to_down);
  sim_->RunFor(absl::Seconds(1));
  ASSERT_TRUE(to_down.has_value());
  EXPECT_TRUE(absl::IsDeadlineExceeded(to_down->status()));
}

// A peer reported gone: the call waiting on it fails then (not at its timeout), new calls to it
// fail at once, calls to others are untouched; once it is reported back, calls wait again.
TEST_F(RpcSimTest, CallsToAPeerReportedGoneFailEarlyUntilItIsBack) {
  SetUpNodes(sim::SimOptions{.seed = sim::TestSeed()}, 3);
  for (NodeId id : {2u, 3u}) {
    Node(id).rpc.SetHandler(RequestKind::kRead, [this, id](NodeId, const Request& q) {
      if (q.payload == "slow") (void)Node(id).env.executor->Sleep(absl::Seconds(5));
      return Reply{};
    });
  }
  Request slow;
  slow.kind = RequestKind::kRead;
  slow.payload = "slow";
  std::optional<absl::StatusOr<Reply>> waiting, other;
  CallFrom(1, 2, slow, absl::Seconds(3), &waiting);
  CallFrom(1, 3, slow, absl::Seconds(3), &other);
  sim_->RunFor(absl::Milliseconds(100));
  ASSERT_FALSE(waiting.has_value());
  Node(1).rpc.SetPeerReachable(2, false);
  EXPECT_FALSE(Node(1).rpc.PeerReachable(2));
  sim_->RunFor(absl::Milliseconds(1));
  ASSERT_TRUE(waiting.has_value()) << "the call on the gone peer still waits";
  EXPECT_TRUE(absl::IsUnavailable(waiting->status())) << waiting->status();
  EXPECT_FALSE(other.has_value()) << "a call to another peer was failed too";

  std::optional<absl::StatusOr<Reply>> fast;
  CallFrom(1, 2, Request{.kind = RequestKind::kRead}, absl::Seconds(3), &fast);
  sim_->RunFor(absl::Microseconds(1));
  ASSERT_TRUE(fast.has_value()) << "a new call to the gone peer waited";
  EXPECT_TRUE(absl::IsUnavailable(fast->status()));
  EXPECT_EQ(Node(1).rpc.stats().unreachable, 2u);

  Node(1).rpc.SetPeerReachable(2, true);
  std::optional<absl::StatusOr<Reply>> again;
  CallFrom(1, 2, Request{.kind = RequestKind::kRead}, absl::Seconds(3), &again);
  sim_->RunFor(absl::Seconds(1));
  ASSERT_TRUE(again.has_value());
  EXPECT_TRUE(again->ok()) << again->status();
}

// The simulator's process-death hints reach an Rpc wired to the network: node 2 crashes while a
// call waits on it; the call fails within milliseconds; after node 2 restarts and is heard from,
// it is reachable again.
TEST_F(RpcSimTest, ACrashedPeersHintFailsTheCallWaitingOnIt) {
  SetUpNodes(sim::SimOptions{.seed = sim::TestSeed()}, 2, /*wire_hints=*/true);
  Node(2).rpc.SetHandler(RequestKind::kRead, [this](NodeId, const Request&) {
    (void)Node(2).env.executor->Sleep(absl::Seconds(5));
    return Reply{};
  });
  std::optional<absl::StatusOr<Reply>> waiting;
  CallFrom(1, 2, Request{.kind = RequestKind::kRead}, absl::Seconds(3), &waiting);
  sim_->RunFor(absl::Milliseconds(100));
  ASSERT_FALSE(waiting.has_value());
  sim_->Crash(2);
  sim_->RunFor(absl::Milliseconds(10));
  ASSERT_TRUE(waiting.has_value()) << "the call waited out its timeout";
  EXPECT_TRUE(absl::IsUnavailable(waiting->status())) << waiting->status();
  EXPECT_EQ(Node(1).hints, (std::vector<std::pair<NodeId, bool>>{{2, false}}));

  sim_->Restart(2);  // a fresh incarnation: no handlers, no hint wiring needed on its side
  Node(2).rpc.SetHandler(RequestKind::kRead, [](NodeId, const Request&) { return Reply{}; });
  std::optional<absl::StatusOr<Reply>> from_restarted;
  CallFrom(2, 1, Request{.kind = RequestKind::kRead}, absl::Seconds(1), &from_restarted);
  sim_->RunFor(absl::Seconds(1));
  EXPECT_EQ(Node(1).hints, (std::vector<std::pair<NodeId, bool>>{{2, false}, {2, true}}));
  EXPECT_TRUE(Node(1).rpc.PeerReachable(2));
}

TEST_F(RpcSimTest, AFullServerAnswersBusyBeyondItsBounds) {
  SetUpNodes(sim::SimOptions{.seed = sim::TestSeed()}, 2);
  int running = 0, max_running = 0;
  Node(2).rpc.SetHandler(RequestKind::kRead, [&](NodeId, const Request&) {
    max_running = std::max(max_running, ++running);
    (void)Node(2).env.executor->Sleep(absl::Milliseconds(500));
    --running;
    return Reply{};
  });
  constexpr size_t kCalls = Rpc::kMaxInflight + Rpc::kMaxQueued + 100;
  std::vector<std::optional<absl::StatusOr<Reply>>> out(kCalls);
  Request q;
  q.kind = RequestKind::kRead;
  for (size_t i = 0; i < kCalls; ++i) CallFrom(1, 2, q, absl::Seconds(30), &out[i]);
  sim_->RunFor(absl::Seconds(20));
  size_t ok = 0, busy = 0;
  for (const auto& r : out) {
    ASSERT_TRUE(r.has_value() && r->ok());
    if ((*r)->status == ReplyStatus::kOk) ++ok;
    if ((*r)->status == ReplyStatus::kBusy) ++busy;
  }
  EXPECT_EQ(busy, 100u);
  EXPECT_EQ(ok, Rpc::kMaxInflight + Rpc::kMaxQueued);
  EXPECT_EQ(max_running, static_cast<int>(Rpc::kMaxInflight));
  EXPECT_EQ(Node(2).rpc.stats().busy, 100u);
}

TEST_F(RpcSimTest, DuplicatedRequestsRunTheHandlerAgainButAnswerTheCallOnce) {
  sim::SimOptions options{.seed = sim::TestSeed()};
  options.network.duplicate = {1, 1};  // every message arrives twice
  SetUpNodes(options, 2);
  int handled = 0;
  Node(2).rpc.SetHandler(RequestKind::kRead, [&](NodeId, const Request&) {
    ++handled;
    return Reply{};
  });
  std::optional<absl::StatusOr<Reply>> r;
  Request q;
  q.kind = RequestKind::kRead;
  CallFrom(1, 2, q, absl::Seconds(1), &r);
  sim_->RunFor(absl::Seconds(2));
  ASSERT_TRUE(r.has_value() && r->ok());
  EXPECT_EQ(handled, 2);  // handlers must be idempotent (the file comment's contract)
  EXPECT_GE(Node(1).rpc.stats().dropped, 1u);  // extra replies to a finished call
}

TEST_F(RpcSimTest, ShutdownFailsPendingCallsAndRefusesNewOnes) {
  SetUpNodes(sim::SimOptions{.seed = sim::TestSeed()}, 2);
  sim_->Crash(2);
  std::optional<absl::StatusOr<Reply>> pending, after;
  Request q;
  CallFrom(1, 2, q, absl::Seconds(10), &pending);
  sim_->RunFor(absl::Milliseconds(100));
  Node(1).rpc.Shutdown();
  sim_->RunFor(absl::Milliseconds(100));
  ASSERT_TRUE(pending.has_value());
  EXPECT_TRUE(absl::IsCancelled(pending->status())) << pending->status();
  CallFrom(1, 2, q, absl::Seconds(10), &after);
  sim_->RunFor(absl::Milliseconds(100));
  ASSERT_TRUE(after.has_value());
  EXPECT_TRUE(absl::IsCancelled(after->status()));
}

TEST_F(RpcSimTest, GarbageFromAPeerIsCountedAndDropped) {
  SetUpNodes(sim::SimOptions{.seed = sim::TestSeed()}, 2);
  Node(1).env.network->Send(2, Service::kForward, "\x01\x09garbage");
  Node(1).env.network->Send(2, Service::kForward, "");
  sim_->RunFor(absl::Milliseconds(100));
  EXPECT_EQ(Node(2).rpc.stats().dropped, 2u);
  EXPECT_EQ(Node(2).rpc.stats().served, 0u);
}

}  // namespace
}  // namespace crema::forward
