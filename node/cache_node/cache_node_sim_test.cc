// The embedded API on a 3-node cluster in the simulator: bootstrap, every operation through
// every node, linearizable reads after writes elsewhere, read-your-writes through one node,
// expiry, a leader crash, and exactly-once increments across retries.
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gtest/gtest.h"
#include "node/cache_node/cache_node.h"
#include "node/membership/placement.h"
#include "node/metrics/crema_metrics.h"
#include "sim/scenarios/cache/cache_node_program.h"
#include "sim/simulator.h"
#include "sim/test_seed.h"

namespace crema {
namespace {

using sim::CacheNodeProgram;
using sim::GetCacheNodeProgram;

class CacheNodeSimTest : public ::testing::Test {
 protected:
  void StartCluster(uint64_t seed, std::vector<NodeId> ids = {1, 2, 3},
                    std::vector<NodeId> joiners = {}) {
    seed_ = seed;
    sim_ = std::make_unique<sim::Simulator>(sim::TestSimOptions(seed, &trace_file_));
    CacheConfig config;
    config.bootstrap = ids;
    config.num_shards = 8;
    config.max_capacity = 10'000;
    config.tick_interval = absl::Milliseconds(50);
    config.election_tick = 10;
    config.max_clock_skew = absl::Milliseconds(100);
    CacheNodeOptions options;
    options.swim.probe_interval = absl::Milliseconds(500);
    options.swim.probe_timeout = absl::Milliseconds(200);
    options.maintenance_interval = absl::Milliseconds(100);
    if (checkpoint_every_ > 0) {
      options.checkpoint.every_entries = checkpoint_every_;
      options.checkpoint.every_log_bytes = 0;
    }
    for (NodeId id : ids) {
      if (with_metrics_) {  // one registry per node, kept across its restarts
        auto& [registry, node_metrics] = metrics_[id];
        registry = std::make_unique<metrics::MetricsRegistry>();
        node_metrics = std::make_unique<metrics::NodeMetrics>(registry.get());
        options.metrics = node_metrics.get();
      }
      sim_->AddNode(id, [config, options](Env env) mutable {
        config.node_id = env.self;
        return std::make_unique<CacheNodeProgram>(env, config, options);
      });
    }
    for (NodeId id : joiners) {
      CacheConfig joiner = config;
      joiner.bootstrap.clear();
      joiner.seeds = ids;
      sim_->AddNode(id, [joiner, options](Env env) mutable {
        joiner.node_id = env.self;
        return std::make_unique<CacheNodeProgram>(env, joiner, options);
      });
    }
    sim_->StartAll();
    ASSERT_TRUE(sim_->RunUntil([&] { return ClusterReady(ids); }, absl::Seconds(30)))
        << "cluster never became ready; reproduce: " << sim::ReproCommand(seed);
  }

  bool ClusterReady(const std::vector<NodeId>& ids) {
    for (NodeId id : ids) {
      CacheNodeProgram* p = GetCacheNodeProgram(*sim_, id);
      if (p == nullptr || p->node() == nullptr || !p->node()->ready()) return false;
      if (p->node()->Status().meta_leader == kNoNode) return false;
    }
    return true;
  }

  // Runs `op` in a fiber on node `id` and the simulation until it returns.
  void On(NodeId id, std::function<void(CacheNode&)> op, absl::Duration limit = absl::Seconds(20)) {
    ASSERT_TRUE(sim::RunOnCacheNode(*sim_, id, std::move(op), limit))
        << "operation on node " << id << " did not run or finish; reproduce: "
        << sim::ReproCommand(seed_);
  }

  uint64_t seed_ = 0;
  uint64_t checkpoint_every_ = 0;  // 0: the default policy
  bool with_metrics_ = false;      // founders record into metrics_
  std::map<NodeId, std::pair<std::unique_ptr<metrics::MetricsRegistry>,
                             std::unique_ptr<metrics::NodeMetrics>>>
      metrics_;
  std::unique_ptr<std::ofstream> trace_file_;
  std::unique_ptr<sim::Simulator> sim_;
};

const ReadOptions kLinearizable{.consistency = ReadConsistency::kLinearizable};
const ReadOptions kLocal{.consistency = ReadConsistency::kLocal};

// Node-side metrics move with the work: proposals, commits, an election per shard, leaders known
// for every shard, fsyncs timed, reads counted as hits and misses where they are served, cache
// entries and bytes; and the exposition names every series the dashboards use.
TEST_F(CacheNodeSimTest, NodeMetricsFollowTheWork) {
  const uint64_t seed = sim::TestSeed();
  with_metrics_ = true;
  StartCluster(seed);
  if (HasFatalFailure()) return;
  On(1, [](CacheNode& n) {
    for (int i = 0; i < 40; ++i) {
      ASSERT_TRUE(n.Put(absl::StrCat("k", i), std::string(100, 'v'), PutOptions{}).ok());
    }
  });
  On(2, [](CacheNode& n) {
    for (int i = 0; i < 40; ++i) EXPECT_EQ(*n.Get(absl::StrCat("k", i), kLinearizable), std::string(100, 'v'));
    for (int i = 0; i < 10; ++i) EXPECT_EQ(*n.Get(absl::StrCat("absent", i), kLinearizable), std::nullopt);
  });
  sim_->RunFor(absl::Seconds(2));  // every replica applies the last writes
  double proposals = 0, commits = 0, elections = 0, hits = 0, misses = 0, entries = 0, bytes = 0;
  uint64_t fsyncs = 0;
  double forwarded_ok = 0;
  std::map<uint32_t, double> has_leader;  // max over nodes, per shard
  for (auto& [id, pair] : metrics_) {
    CacheNodeProgram* p = GetCacheNodeProgram(*sim_, id);
    ASSERT_NE(p, nullptr);
    ASSERT_NE(p->node(), nullptr);
    p->node()->RefreshMetrics();
    metrics::NodeMetrics& m = *pair.second;
    proposals += m.raft_proposals.value();
    commits += m.raft_commits.value();
    elections += m.raft_elections.value();
    hits += m.cache_hits.value();
    misses += m.cache_misses.value();
    entries += m.cache_entries.value();
    bytes += m.cache_bytes.value();
    fsyncs += m.fsync_seconds.count();
    forwarded_ok += m.forward_requests.With({{"outcome", "ok"}}).value();
    EXPECT_GT(m.raft_groups.value(), 0) << "node " << id;
    EXPECT_GT(m.cluster_map_version.value(), 0) << "node " << id;
    EXPECT_EQ(m.Members("alive").value(), 3) << "node " << id;
    EXPECT_GT(m.raft_leader_changes.value(), 0) << "node " << id;
    for (uint32_t shard = 0; shard < 8; ++shard) {
      has_leader[shard] = std::max(has_leader[shard], m.ShardHasLeader(shard).value());
    }
    const std::string text = pair.first->ExposeText();
    for (const char* name : {"crema_raft_proposals_total", "crema_shard_has_leader{shard=\"0\"}",
                             "crema_disk_fsync_duration_seconds_bucket", "crema_cache_hits_total",
                             "crema_membership_phi{peer="}) {
      EXPECT_NE(text.find(name), std::string::npos) << name << " missing on node " << id;
    }
  }
  // 40 writes (and the map's, and the shards' first entries) were proposed and committed on
  // three replicas each; each of the 8 shards and the metadata group elected a leader.
  EXPECT_GE(proposals, 40) << sim::ReproCommand(seed);
  EXPECT_GE(commits, 3 * 40) << sim::ReproCommand(seed);
  EXPECT_GE(elections, 9) << sim::ReproCommand(seed);
  EXPECT_GE(hits, 40) << sim::ReproCommand(seed);  // more only if a forwarded read was retried
  EXPECT_GE(misses, 10) << sim::ReproCommand(seed);
  EXPECT_LT(misses, hits) << sim::ReproCommand(seed);
  EXPECT_GT(fsyncs, 0u) << sim::ReproCommand(seed);
  // Node 1 leads some of the 8 shards at most: the other writes were forwarded.
  EXPECT_GT(forwarded_ok, 0) << sim::ReproCommand(seed);
  EXPECT_EQ(entries, 3 * 40) << sim::ReproCommand(seed);
  // Entries mode: bytes are still keys + values + the per-entry overhead.
  double expected_bytes = 0;
  for (int i = 0; i < 40; ++i) {
    expected_bytes += 3 * (absl::StrCat("k", i).size() + 100 + replicated::CacheStateMachine::kEntryOverheadBytes);
  }
  EXPECT_EQ(bytes, expected_bytes) << sim::ReproCommand(seed);
  ASSERT_EQ(has_leader.size(), 8u);
  for (const auto& [shard, v] : has_leader) EXPECT_EQ(v, 1) << "shard " << shard;
}

TEST_F(CacheNodeSimTest, EveryOperationThroughEveryNode) {
  const uint64_t seed = sim::TestSeed();
  StartCluster(seed);
  if (HasFatalFailure()) return;
  On(1, [](CacheNode& n) {
    absl::StatusOr<PutResult> put = n.Put("user:123", "Alice", PutOptions{});
    ASSERT_TRUE(put.ok()) << put.status();
    EXPECT_TRUE(put->written);
  });
  // A linearizable read through another node sees it at once.
  On(2, [](CacheNode& n) {
    absl::StatusOr<std::optional<std::string>> v = n.Get("user:123", kLinearizable);
    ASSERT_TRUE(v.ok()) << v.status();
    EXPECT_EQ(*v, "Alice");
  });
  // Conditional writes, previous values, CAS and increments through the third node.
  On(3, [](CacheNode& n) {
    PutOptions nx;
    nx.condition = PutCondition::kIfAbsent;
    EXPECT_FALSE(n.Put("user:123", "Bob", nx)->written);
    PutOptions getset;
    getset.return_previous = true;
    EXPECT_EQ(n.Put("user:123", "Carol", getset)->previous, "Alice");
    EXPECT_TRUE(*n.CompareAndSet("user:123", "Carol", "Dave", Expiration::Keep(), {}));
    EXPECT_FALSE(*n.CompareAndSet("user:123", "Carol", "Eve", Expiration::Keep(), {}));
    EXPECT_EQ(*n.Increment("counter", 5, {}), 5);
    EXPECT_EQ(*n.Increment("counter", -2, {}), 3);
    absl::StatusOr<int64_t> bad = n.Increment("user:123", 1, {});
    EXPECT_TRUE(absl::IsFailedPrecondition(bad.status())) << bad.status();
    // Read-your-writes through this node, with local reads.
    EXPECT_EQ(*n.Get("user:123", kLocal), "Dave");
    EXPECT_EQ(*n.Get("counter", kLocal), "3");
  });
  // Many keys over every shard; multi-get and multi-put.
  On(1, [](CacheNode& n) {
    std::vector<std::pair<std::string, std::string>> entries;
    std::vector<std::string> keys;
    for (int i = 0; i < 40; ++i) {
      entries.emplace_back(absl::StrCat("k", i), absl::StrCat("v", i));
      keys.push_back(absl::StrCat("k", i));
    }
    ASSERT_TRUE(n.MultiPut(entries, Expiration::Default(), {}).ok());
    keys.push_back("missing");
    absl::StatusOr<std::vector<std::optional<std::string>>> got = n.MultiGet(keys, kLinearizable);
    ASSERT_TRUE(got.ok()) << got.status();
    for (int i = 0; i < 40; ++i) EXPECT_EQ((*got)[i], absl::StrCat("v", i));
    EXPECT_EQ(got->back(), std::nullopt);
    EXPECT_EQ(*n.Delete("k0", {}), "v0");
    EXPECT_EQ(*n.Delete("k0", {}), std::nullopt);
  });
  // TTLs: set, observe, persist, expire.
  On(2, [](CacheNode& n) {
    ASSERT_TRUE(n.Put("t", "v", PutOptions{.expiration = Expiration::After(absl::Seconds(2))}).ok());
    absl::StatusOr<TtlResult> ttl = n.Ttl("t", kLinearizable);
    ASSERT_TRUE(ttl.ok());
    EXPECT_EQ(ttl->kind, TtlResult::Kind::kExpires);
    EXPECT_LE(ttl->remaining, absl::Seconds(2));
    EXPECT_TRUE(*n.Expire("k1", Expiration::After(absl::Seconds(1)), {}));
    EXPECT_FALSE(*n.Expire("nope", Expiration::After(absl::Seconds(1)), {}));
    EXPECT_EQ(n.Ttl("k2", kLinearizable)->kind, TtlResult::Kind::kNoExpiry);
    EXPECT_EQ(n.Ttl("nope", kLinearizable)->kind, TtlResult::Kind::kMissing);
  });
  sim_->RunFor(absl::Seconds(3));
  On(3, [](CacheNode& n) {
    EXPECT_EQ(*n.Get("t", kLinearizable), std::nullopt);
    EXPECT_EQ(*n.Get("k1", kLocal), std::nullopt);
    EXPECT_EQ(*n.Get("k2", kLocal), "v2");
  });
  if (HasFailure()) ADD_FAILURE() << "reproduce: " << sim::ReproCommand(seed);
}

// Storage (issue 8): every Raft group a cache node hosts (the meta group and its shard
// replicas) persists into the node's ONE shared log — no per-group WAL files — and each host
// cycle issues at most one log Sync for all the groups it persisted.
TEST_F(CacheNodeSimTest, EveryGroupOfANodePersistsIntoOneSharedLog) {
  const uint64_t seed = sim::TestSeed();
  StartCluster(seed);
  if (HasFatalFailure()) return;
  On(1, [](CacheNode& n) {
    std::vector<std::pair<std::string, std::string>> entries;
    for (int i = 0; i < 64; ++i) entries.emplace_back(absl::StrCat("k", i), "v");
    ASSERT_TRUE(n.MultiPut(entries, Expiration::Default(), {}).ok());  // every shard writes
  });
  for (NodeId id : {1, 2, 3}) {
    SCOPED_TRACE(absl::StrCat("node ", id));
    raft::RaftHost& host = GetCacheNodeProgram(*sim_, id)->node()->raft_host();
    ASSERT_NE(host.shared_log(), nullptr);
    EXPECT_GT(host.group_ids().size(), 2u);
    EXPECT_EQ(host.shared_log()->group_count(), host.group_ids().size());
    EXPECT_GT(host.stats().log_syncs, 0u);
    EXPECT_LE(host.stats().log_syncs, host.stats().cycles);
    absl::StatusOr<std::vector<std::string>> files = sim_->disk(id).List("");
    ASSERT_TRUE(files.ok()) << files.status();
    int log_segments = 0;
    for (const std::string& f : *files) {
      EXPECT_EQ(f.find("wal-"), std::string::npos) << "a per-group WAL file: " << f;
      if (f.rfind("raftlog/log-", 0) == 0) ++log_segments;
    }
    EXPECT_GE(log_segments, 1) << absl::StrJoin(*files, ", ");
  }
  if (HasFailure()) ADD_FAILURE() << "reproduce: " << sim::ReproCommand(seed);
}

// The node side of pipelined front ends (docs/server.md, Performance). MultiPutEach writes the
// shards of a batch concurrently — one command per shard, each entry with its shard's outcome —
// so a batch over 8 shards takes about one write's time, not eight. TryGetNow answers only reads
// that need no wait, with what Get answers; linearizable ones only on the shard's leader.
TEST_F(CacheNodeSimTest, MultiPutEachWritesShardsConcurrentlyAndTryGetNowNeverWaits) {
  const uint64_t seed = sim::TestSeed();
  StartCluster(seed);
  if (HasFatalFailure()) return;
  std::map<uint32_t, std::string> key_of_shard;  // one key on each of the 8 shards
  for (int i = 0; key_of_shard.size() < 8 && i < 10'000; ++i) {
    const std::string key = absl::StrCat("p", i);
    key_of_shard.emplace(membership::ShardOfKey(key, 8), key);
  }
  ASSERT_EQ(key_of_shard.size(), 8u);
  std::vector<std::pair<std::string, std::string>> entries;
  for (const auto& [shard, key] : key_of_shard) entries.emplace_back(key, "batch");
  entries.emplace_back("", "bad key");  // only this entry fails
  int64_t one_by_one_ns = 0, together_ns = 0;
  On(1, [&](CacheNode& n) {
    int64_t start = 0;
    for (const char* value : {"warm-up", "single"}) {  // timed once sessions and leaders are known
      start = sim_->now_ns();
      for (const auto& [key, unused] : entries) {
        if (key.empty()) continue;
        ASSERT_TRUE(n.Put(key, value, PutOptions{}).ok());
      }
    }
    one_by_one_ns = sim_->now_ns() - start;
    const uint64_t writes_before = n.stats().writes;
    start = sim_->now_ns();
    std::vector<absl::Status> outcomes = n.MultiPutEach(entries, Expiration::Default(), {});
    together_ns = sim_->now_ns() - start;
    ASSERT_EQ(outcomes.size(), entries.size());
    for (size_t i = 0; i + 1 < entries.size(); ++i) EXPECT_TRUE(outcomes[i].ok()) << outcomes[i];
    EXPECT_TRUE(absl::IsInvalidArgument(outcomes.back())) << outcomes.back();
    EXPECT_EQ(n.stats().writes - writes_before, 8u);  // one proposal per shard, none twice
  });
  EXPECT_LT(together_ns * 2, one_by_one_ns)
      << "8 shards written one after another? together " << together_ns << " ns, one by one "
      << one_by_one_ns << " ns";
  for (NodeId id : {1u, 2u, 3u}) {
    On(id, [&, id](CacheNode& n) {
      for (const auto& [shard, key] : key_of_shard) {
        SCOPED_TRACE(absl::StrCat("node ", id, " key ", key));
        bool leads = false;
        for (const CacheNode::ReplicaView& r : n.Replicas()) {
          leads = leads || (r.group == cluster::GroupOfShard(shard) && r.driver != nullptr &&
                            r.driver->has_core() && r.driver->core().role() == raft::Role::kLeader);
        }
        // The slow paths first (a ReadIndex round makes the replica ready for local reads and,
        // on the leader, renews its lease); then nothing is left to wait for.
        ASSERT_EQ(*n.Get(key, kLinearizable), "batch");
        ASSERT_EQ(*n.Get(key, kLocal), "batch");
        auto local = n.TryGetNow(key, kLocal);
        auto linearizable = n.TryGetNow(key, kLinearizable);
        if (local.has_value()) {
          ASSERT_TRUE(local->ok()) << local->status();
          EXPECT_EQ(**local, "batch");
        }
        if (leads) {
          ASSERT_TRUE(local.has_value());
          ASSERT_TRUE(linearizable.has_value()) << "a leader with a fresh lease declined";
          ASSERT_TRUE(linearizable->ok()) << linearizable->status();
          EXPECT_EQ(**linearizable, "batch");
        } else {
          EXPECT_FALSE(linearizable.has_value()) << "a follower answered a linearizable read";
        }
      }
      EXPECT_FALSE(n.TryGetNow("", kLocal).has_value());  // errors are Get's to give
    });
  }
  if (HasFailure()) ADD_FAILURE() << "reproduce: " << sim::ReproCommand(seed);
}

// A front end that reads the clocks once for a window of pipelined GETs passes the reading
// (ReadOptions::now), and the inline read is decided with it: its wall time is what the step
// check validates (a reading whose wall clock moved against its monotonic clock is refused, and
// the node goes out of bound), and a reading that is the node's own present gives the same answer
// as no reading. (A reading later than the node's next own reading is outside the contract: the
// clock monitor requires monotonic readings in order.)
TEST_F(CacheNodeSimTest, TryGetNowDecidesWithTheCallersClockReading) {
  const uint64_t seed = sim::TestSeed();
  StartCluster(seed);
  if (HasFatalFailure()) return;
  On(1, [&](CacheNode& n) {
    PutOptions put;
    put.expiration = Expiration::After(absl::Seconds(30));
    ASSERT_TRUE(n.Put("windowed", "v", put).ok());
    ASSERT_EQ(*n.Get("windowed", kLinearizable), "v");  // the replica is ready for local reads
    ASSERT_EQ(*n.Get("windowed", kLocal), "v");
    const sim::SimClock& clock = sim_->clock(1);
    ReadOptions present = kLocal;
    present.now = ClockReading{clock.MonotonicNow(), clock.Now()};
    auto with_reading = n.TryGetNow("windowed", present);
    ASSERT_TRUE(with_reading.has_value());
    ASSERT_TRUE(with_reading->ok()) << with_reading->status();
    EXPECT_EQ(**with_reading, "v");
    ASSERT_FALSE(n.Status().clock.out_of_bound);
    ReadOptions stepped = kLocal;
    stepped.now = ClockReading{clock.MonotonicNow(), clock.Now() + absl::Seconds(31)};
    EXPECT_FALSE(n.TryGetNow("windowed", stepped).has_value())
        << "a reading whose wall clock stepped was used to decide expiry";
    EXPECT_TRUE(n.Status().clock.out_of_bound) << "the step in the reading went unseen";
  });
  if (HasFailure()) ADD_FAILURE() << "reproduce: " << sim::ReproCommand(seed);
}

// Pipelined SETs of many connections (combined_puts.cc): MultiPutEach calls made in the same turn
// of the loop share one command per shard and expiry, each caller gets its entries' outcome, and
// callers with another expiry get their own command.
TEST_F(CacheNodeSimTest, ConcurrentMultiPutEachCallsShareOneCommandPerShard) {
  const uint64_t seed = sim::TestSeed();
  StartCluster(seed);
  if (HasFatalFailure()) return;
  constexpr int kCallers = 6;
  std::vector<std::string> on_a, on_b;  // keys of shards 0 and 1
  for (int i = 0; (on_a.size() < kCallers + 1 || on_b.size() < kCallers + 1) && i < 100'000; ++i) {
    const std::string key = absl::StrCat("c", i);
    const uint32_t shard = membership::ShardOfKey(key, 8);
    if (shard == 0 && on_a.size() < kCallers + 1) on_a.push_back(key);
    if (shard == 1 && on_b.size() < kCallers + 1) on_b.push_back(key);
  }
  ASSERT_EQ(on_a.size(), kCallers + 1u);
  ASSERT_EQ(on_b.size(), kCallers + 1u);
  On(1, [&](CacheNode& n) {  // sessions and leader hints known before counting
    ASSERT_TRUE(n.Put(on_a.back(), "warm", PutOptions{}).ok());
    ASSERT_TRUE(n.Put(on_b.back(), "warm", PutOptions{}).ok());
  });
  CacheNode& node = *GetCacheNodeProgram(*sim_, 1)->node();
  const uint64_t writes_before = node.stats().writes;
  const uint64_t combined_before = node.stats().combined_puts;
  std::vector<std::vector<absl::Status>> outcomes(kCallers + 1);
  int done = 0;
  for (int c = 0; c <= kCallers; ++c) {
    // The last caller's entries expire: they cannot share the others' commands.
    const Expiration expiration = c == kCallers ? Expiration::After(absl::Hours(1))
                                                : Expiration::Default();
    const std::string value = absl::StrCat("v", c);
    GetCacheNodeProgram(*sim_, 1)->Run("caller", [&, c, expiration, value] {
      outcomes[c] = node.MultiPutEach({{on_a[c], value}, {on_b[c], value}}, expiration, {});
      ++done;
    });
  }
  ASSERT_TRUE(sim_->RunUntil([&] { return done == kCallers + 1; }, absl::Seconds(20)))
      << "reproduce: " << sim::ReproCommand(seed);
  for (int c = 0; c <= kCallers; ++c) {
    ASSERT_EQ(outcomes[c].size(), 2u);
    EXPECT_TRUE(outcomes[c][0].ok() && outcomes[c][1].ok()) << outcomes[c][0] << outcomes[c][1];
  }
  // Two shards, two expiries: four commands for 14 entries of 7 callers.
  EXPECT_EQ(node.stats().writes - writes_before, 4u);
  EXPECT_EQ(node.stats().combined_puts - combined_before, 4u);
  On(2, [&](CacheNode& n) {
    for (int c = 0; c <= kCallers; ++c) {
      EXPECT_EQ(*n.Get(on_a[c], kLinearizable), absl::StrCat("v", c));
      EXPECT_EQ(*n.Get(on_b[c], kLinearizable), absl::StrCat("v", c));
    }
    absl::StatusOr<TtlResult> ttl = n.Ttl(on_a[kCallers], kLinearizable);
    ASSERT_TRUE(ttl.ok()) << ttl.status();
    EXPECT_EQ(ttl->kind, TtlResult::Kind::kExpires);
    EXPECT_EQ(n.Ttl(on_a[0], kLinearizable)->kind, TtlResult::Kind::kNoExpiry);
  });
  if (HasFailure()) ADD_FAILURE() << "reproduce: " << sim::ReproCommand(seed);
}

TEST_F(CacheNodeSimTest, SurvivesALeaderCrashAndIncrementsStayExact) {
  const uint64_t seed = sim::TestSeed();
  StartCluster(seed);
  if (HasFatalFailure()) return;
  int expected = 0;
  for (int round = 0; round < 3; ++round) {
    for (NodeId via : {1u, 2u, 3u}) {
      if (sim_->state(via) != sim::NodeState::kUp) continue;
      On(via, [&expected](CacheNode& n) {
        absl::StatusOr<int64_t> v = n.Increment("hits", 1, WriteOptions{.timeout = absl::Seconds(10)});
        ASSERT_TRUE(v.ok()) << v.status();
        ++expected;
        EXPECT_EQ(*v, expected);
      });
    }
    // Crash whichever node leads the shard of "hits", then bring it back.
    NodeId leader = kNoNode;
    for (NodeId id : {1u, 2u, 3u}) {
      CacheNodeProgram* p = GetCacheNodeProgram(*sim_, id);
      if (p == nullptr || p->node() == nullptr) continue;
      for (const CacheNode::ReplicaView& r : p->node()->Replicas()) {
        if (r.cache != nullptr && r.driver != nullptr && r.driver->has_core() &&
            r.driver->core().role() == raft::Role::kLeader && r.cache->size() > 0) {
          leader = id;
        }
      }
    }
    ASSERT_NE(leader, kNoNode);
    sim_->Crash(leader);
    sim_->RunFor(absl::Seconds(1));
    const NodeId survivor = leader == 1 ? 2 : 1;
    On(survivor, [&expected](CacheNode& n) {
      absl::StatusOr<int64_t> v = n.Increment("hits", 1, WriteOptions{.timeout = absl::Seconds(10)});
      ASSERT_TRUE(v.ok()) << v.status();
      ++expected;
      EXPECT_EQ(*v, expected);
    });
    sim_->Restart(leader);
    ASSERT_TRUE(sim_->RunUntil([&] { return ClusterReady({1, 2, 3}); }, absl::Seconds(20)));
  }
  On(3, [&expected](CacheNode& n) {
    EXPECT_EQ(*n.Get("hits", kLinearizable), absl::StrCat(expected));
  });
  if (HasFailure()) ADD_FAILURE() << "reproduce: " << sim::ReproCommand(seed);
}

// The map's view of where replicas are, and whether every group sits on its targets.
bool Settled(CacheNode& n) {
  const cluster::ClusterMap& map = n.map();
  cluster::TargetPlacement targets(map);
  for (raft::GroupId g = cluster::kFirstShardGroup;
       g < cluster::kFirstShardGroup + map.params.num_shards; ++g) {
    const cluster::ShardInfo* info = map.Group(g);
    std::vector<NodeId> nodes = info->VoterNodes();
    std::vector<NodeId> want = targets.Targets(g);
    std::sort(nodes.begin(), nodes.end());
    std::sort(want.begin(), want.end());
    if (nodes != want || !info->learners.empty() || !info->adding.empty()) return false;
  }
  return true;
}

std::string Dump(CacheNode& n) {
  const cluster::ClusterMap& map = n.map();
  cluster::TargetPlacement targets(map);
  std::string out = absl::StrCat(cluster::DescribeClusterMap(map), "\n");
  for (raft::GroupId g = cluster::kFirstShardGroup;
       g < cluster::kFirstShardGroup + map.params.num_shards; ++g) {
    const cluster::ShardInfo* info = map.Group(g);
    absl::StrAppend(&out, "group ", g, " voters=", absl::StrJoin(info->voters, ","),
                    " learners=", absl::StrJoin(info->learners, ","), " adding=",
                    absl::StrJoin(info->adding, ","), " targets=",
                    absl::StrJoin(targets.Targets(g), ","), " conf_index=", info->conf_index,
                    "\n");
  }
  for (const auto& [id, info] : map.nodes) {
    absl::StrAppend(&out, "node ", id, " ", NodeStateName(info.state), "\n");
  }
  for (const CacheNode::ReplicaView& r : n.Replicas()) {
    absl::StrAppend(&out, "  replica g", r.group, " r", r.replica);
    if (r.driver == nullptr) {
      absl::StrAppend(&out, " opening\n");
      continue;
    }
    absl::StrAppend(&out, " stopped=", r.driver->stopped(), " applied=", r.driver->applied());
    if (r.driver->has_core()) {
      const raft::Raft& c = r.driver->core();
      absl::StrAppend(&out, " role=", raft::RoleName(c.role()), " term=", c.term(),
                      " leader=", c.leader(), " commit=", c.commit(), " quiet=", c.quiesced());
      for (const auto& [id, p] : c.progress()) {
        absl::StrAppend(&out, " [", id, " match=", p.match, " next=", p.next, "]");
      }
    }
    absl::StrAppend(&out, "\n");
  }
  return out;
}

TEST_F(CacheNodeSimTest, AdmitMovesShardsToTheNewNodeAndDrainMovesThemOff) {
  const uint64_t seed = sim::TestSeed();
  StartCluster(seed, {1, 2, 3}, {4});
  if (HasFatalFailure()) return;
  On(1, [](CacheNode& n) {
    for (int i = 0; i < 60; ++i) {
      ASSERT_TRUE(n.Put(absl::StrCat("k", i), absl::StrCat("v", i), PutOptions{}).ok());
    }
  });
  ASSERT_TRUE(sim_->RunUntil([&] {
    CacheNodeProgram* p = GetCacheNodeProgram(*sim_, 1);
    return p->node()->membership().IsAvailable(4);
  }, absl::Seconds(20)));
  On(2, [](CacheNode& n) {
    absl::Status s = n.AdmitNode(4, WriteOptions{});
    ASSERT_TRUE(s.ok()) << s;
  });
  auto node = [&](NodeId id) { return GetCacheNodeProgram(*sim_, id)->node(); };
  ASSERT_TRUE(sim_->RunUntil([&] {
    return node(1)->map().nodes.contains(4) && Settled(*node(1)) &&
           node(4)->map().version == node(1)->map().version;
  }, absl::Seconds(120))) << "admission never settled; reproduce: " << sim::ReproCommand(seed)
                           << "\n" << Dump(*node(1)) << "node 4: " << Dump(*node(4));
  int on_four = 0;
  for (const CacheNode::ReplicaView& r : node(4)->Replicas()) on_four += r.cache != nullptr;
  EXPECT_GT(on_four, 0) << "the new node received no shard";
  // Drain node 1: everything moves off it, then it is marked removed.
  On(3, [](CacheNode& n) { ASSERT_TRUE(n.DrainNode(1, WriteOptions{}).ok()); });
  ASSERT_TRUE(sim_->RunUntil([&] {
    auto it = node(2)->map().nodes.find(1);
    return it != node(2)->map().nodes.end() && it->second.state == NodeState::kRemoved &&
           Settled(*node(2));
  }, absl::Seconds(120))) << "drain never finished; reproduce: " << sim::ReproCommand(seed);
  sim_->RunFor(absl::Seconds(2));
  for (const CacheNode::ReplicaView& r : node(1)->Replicas()) {
    EXPECT_EQ(r.cache, nullptr) << "node 1 still hosts group " << r.group;
  }
  // Nothing was lost on the way.
  On(4, [](CacheNode& n) {
    for (int i = 0; i < 60; ++i) {
      absl::StatusOr<std::optional<std::string>> v = n.Get(absl::StrCat("k", i), kLinearizable);
      ASSERT_TRUE(v.ok()) << v.status();
      EXPECT_EQ(*v, absl::StrCat("v", i));
    }
  });
  if (HasFailure()) ADD_FAILURE() << "reproduce: " << sim::ReproCommand(seed);
}

// Repair from peers: a replica whose checkpoint is really corrupt (not a transient bad read) is
// reported, removed from its group, wiped, and re-added on the same node under a new replica id
// (generation), caught up by snapshot — while the shard keeps serving from the other two.
TEST_F(CacheNodeSimTest, ACorruptReplicaIsRebuiltFromItsPeers) {
  const uint64_t seed = sim::TestSeed();
  checkpoint_every_ = 16;
  StartCluster(seed);
  if (HasFatalFailure()) return;
  // Keys of shard 0 (group 16), enough for several checkpoints.
  std::vector<std::string> keys;
  for (int i = 0; keys.size() < 60; ++i) {
    std::string key = absl::StrCat("k", i);
    if (membership::ShardOfKey(key, 8) == 0) keys.push_back(key);
  }
  On(1, [&keys](CacheNode& n) {
    for (const std::string& key : keys) ASSERT_TRUE(n.Put(key, "v-" + key, PutOptions{}).ok());
  });
  if (HasFatalFailure()) return;
  const raft::GroupId group = cluster::GroupOfShard(0);
  auto node = [&](NodeId id) { return GetCacheNodeProgram(*sim_, id)->node(); };
  const cluster::ShardInfo before = *node(2)->map().Group(group);
  const raft::ReplicaId old_replica = before.ReplicaOn(1);
  ASSERT_NE(old_replica, raft::kNoReplica);

  // Node 1 stops; one byte in the middle of each of its group-16 checkpoints is flipped.
  sim_->Crash(1);
  absl::StatusOr<std::vector<std::string>> files = sim_->disk(1).List("");
  ASSERT_TRUE(files.ok());
  int damaged = 0;
  for (const std::string& name : *files) {
    if (name.find("snap-") == std::string::npos ||
        name.find(absl::StrCat("/", group, "/")) == std::string::npos) {
      continue;
    }
    absl::StatusOr<std::unique_ptr<File>> f = sim_->disk(1).Open(name, OpenMode::kOpenExisting);
    ASSERT_TRUE(f.ok());
    const uint64_t at = (*f)->Size() / 2;
    absl::StatusOr<std::string> byte = (*f)->Read(at, 1);
    ASSERT_TRUE(byte.ok() && byte->size() == 1);
    (*byte)[0] = static_cast<char>((*byte)[0] ^ 0x5A);
    ASSERT_TRUE((*f)->Write(at, *byte).ok());
    ASSERT_TRUE((*f)->Sync().ok());
    ++damaged;
  }
  ASSERT_GT(damaged, 0) << "no checkpoint of group " << group << " on node 1 to damage";

  // The shard keeps serving from the other two meanwhile.
  On(2, [&keys](CacheNode& n) {
    ASSERT_TRUE(n.Put(keys[0], "while-down", PutOptions{}).ok());
  });
  sim_->Restart(1);
  ASSERT_TRUE(sim_->RunUntil([&] {
    CacheNodeProgram* p = GetCacheNodeProgram(*sim_, 1);
    if (p == nullptr || p->node() == nullptr) return false;
    const cluster::ShardInfo* info = node(2)->map().Group(group);
    const raft::ReplicaId now_on_1 = info->ReplicaOn(1);
    if (now_on_1 == raft::kNoReplica || now_on_1 == old_replica) return false;
    if (!Settled(*node(2))) return false;
    for (const CacheNode::ReplicaView& r : p->node()->Replicas()) {
      if (r.group == group && r.replica == now_on_1 && r.cache != nullptr &&
          r.driver != nullptr && r.driver->applied() > 0) {
        return true;
      }
    }
    return false;
  }, absl::Seconds(120))) << "the corrupt replica was never rebuilt; reproduce: "
                          << sim::ReproCommand(seed) << "\n" << Dump(*node(2)) << "node 1: "
                          << (node(1) != nullptr ? Dump(*node(1)) : "not started");
  const raft::ReplicaId rebuilt = node(2)->map().Group(group)->ReplicaOn(1);
  EXPECT_EQ(raft::NodeOfReplica(rebuilt), 1u);
  EXPECT_GT(raft::GenerationOfReplica(rebuilt), raft::GenerationOfReplica(old_replica));
  // The rebuilt replica holds the shard's data: local reads on node 1 see every key.
  sim_->RunFor(absl::Seconds(2));
  On(1, [&keys](CacheNode& n) {
    EXPECT_EQ(*n.Get(keys[0], kLocal), "while-down");
    for (size_t i = 1; i < keys.size(); ++i) EXPECT_EQ(*n.Get(keys[i], kLocal), "v-" + keys[i]);
  });
  if (HasFailure()) ADD_FAILURE() << "reproduce: " << sim::ReproCommand(seed);
}

}  // namespace
}  // namespace crema
