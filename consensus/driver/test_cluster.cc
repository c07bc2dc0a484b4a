#include "consensus/driver/test_cluster.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "consensus/storage/encoding.h"
#include "sim/test_seed.h"

namespace crema::raft::testing {

// --- KvMachine ----------------------------------------------------------------------------------

std::string KvMachine::ApplyWithResult(Index index, std::string_view command) {
  last_applied = index;
  const size_t eq = command.find('=');
  if (eq == std::string_view::npos) return "";
  std::string& slot = data[std::string(command.substr(0, eq))];
  std::string previous = std::move(slot);
  slot = std::string(command.substr(eq + 1));
  return previous;
}

std::string KvMachine::Checkpoint() {
  std::string out;
  storage::PutU64(&out, last_applied);
  for (const auto& [k, v] : data) {
    storage::PutU32(&out, static_cast<uint32_t>(k.size()));
    out.append(k);
    storage::PutU32(&out, static_cast<uint32_t>(v.size()));
    out.append(v);
  }
  return out;
}

absl::Status KvMachine::Restore(std::string_view checkpoint) {
  ++restores;
  data.clear();
  last_applied = 0;
  if (checkpoint.empty()) return absl::OkStatus();
  if (checkpoint.size() < 8) return absl::InvalidArgumentError("short checkpoint");
  last_applied = storage::LoadU64(checkpoint.data());
  size_t pos = 8;
  auto get = [&](std::string* s) {
    if (checkpoint.size() - pos < 4) return false;
    const uint32_t n = storage::LoadU32(checkpoint.data() + pos);
    pos += 4;
    if (checkpoint.size() - pos < n) return false;
    *s = std::string(checkpoint.substr(pos, n));
    pos += n;
    return true;
  };
  while (pos < checkpoint.size()) {
    std::string k, v;
    if (!get(&k) || !get(&v)) return absl::InvalidArgumentError("corrupt checkpoint");
    data[std::move(k)] = std::move(v);
  }
  return absl::OkStatus();
}

// --- nodes --------------------------------------------------------------------------------------

HostProgram::HostProgram(Env env, const ClusterSpec& spec) : env(env) {
  host = RaftHost::Start(env, spec.host);
  env.executor->Spawn("open-groups", [this, &spec] {
    for (const GroupSpec& g : spec.groups) {
      const std::vector<NodeId>& members = g.members.empty() ? g.voters : g.members;
      if (std::find(members.begin(), members.end(), this->env.self) == members.end()) continue;
      GroupOptions options = spec.group_template;
      options.raft.id = this->env.self;
      options.raft.group = g.id;
      const bool founder =
          std::find(g.voters.begin(), g.voters.end(), this->env.self) != g.voters.end();
      options.bootstrap = ConfState{};
      if (founder) options.bootstrap.voters = g.voters;
      auto machine = std::make_unique<KvMachine>();
      KvMachine* raw = machine.get();
      machines[g.id] = std::move(machine);
      absl::StatusOr<GroupDriver*> created = host->CreateGroup(options, raw);
      if (!created.ok()) {
        open_error = created.status();
        return;
      }
    }
    opened = true;
  });
}

// --- cluster ------------------------------------------------------------------------------------

TestCluster::TestCluster(uint64_t seed, ClusterSpec spec, sim::SimOptions sim_options)
    : seed_(seed), spec_(std::move(spec)), sim_([&] {
        sim_options.seed = seed;
        sim_options.network = spec_.network;
        return sim_options;
      }()) {
  for (NodeId id : spec_.nodes) {
    sim_.AddNode(id, [this](Env env) {
      auto program = std::make_unique<HostProgram>(env, spec_);
      for (const Writer& w : writers_) {
        env.executor->Spawn("writer-start", [this, id = env.self, w] {
          SpawnWriter(id, w.group, w.interval, w.value_bytes);
        });
      }
      return program;
    });
  }
  sim_.StartAll();
}

HostProgram* TestCluster::node(NodeId id) {
  if (sim_.state(id) != sim::NodeState::kUp) return nullptr;
  auto* p = static_cast<HostProgram*>(sim_.program(id));
  return p != nullptr && p->opened ? p : nullptr;
}

GroupDriver* TestCluster::group(NodeId id, GroupId group) {
  HostProgram* p = node(id);
  return p == nullptr ? nullptr : p->host->group(group);
}

KvMachine* TestCluster::machine(NodeId id, GroupId group) {
  HostProgram* p = node(id);
  if (p == nullptr) return nullptr;
  auto it = p->machines.find(group);
  return it == p->machines.end() ? nullptr : it->second.get();
}

NodeId TestCluster::Leader(GroupId g) {
  NodeId leader = kNoNode;
  Term term = 0;
  for (NodeId id : spec_.nodes) {
    GroupDriver* d = group(id, g);
    if (d == nullptr || d->stopped() || !d->has_core()) continue;
    if (d->core().role() == Role::kLeader && d->core().term() >= term) {
      leader = id;
      term = d->core().term();
    }
  }
  return leader;
}

bool TestCluster::WaitForLeader(GroupId g, absl::Duration limit) {
  return sim_.RunUntil([&] { return Leader(g) != kNoNode; }, limit);
}

bool TestCluster::WaitCaughtUp(GroupId g, const std::vector<NodeId>& nodes,
                               absl::Duration limit) {
  return sim_.RunUntil(
      [&] {
        const NodeId leader = Leader(g);
        if (leader == kNoNode) return false;
        const Raft& core = group(leader, g)->core();
        const Index commit = core.commit();
        // Until the leader commits an entry of its term its commit index may lag (§5.4.2).
        if (core.log().TermAt(commit) != core.term()) return false;
        for (NodeId id : nodes) {
          GroupDriver* d = group(id, g);
          if (d == nullptr || d->stopped() || d->applied() < commit) return false;
        }
        return true;
      },
      limit);
}

void TestCluster::StartWriters(GroupId g, absl::Duration interval, size_t value_bytes) {
  writing_ = true;
  writers_.push_back({g, interval, value_bytes});
  for (NodeId id : spec_.nodes) {
    if (sim_.state(id) != sim::NodeState::kUp) continue;
    Spawn(id, [this, id, g, interval, value_bytes](HostProgram&) {
      SpawnWriter(id, g, interval, value_bytes);
    });
  }
}

void TestCluster::SpawnWriter(NodeId id, GroupId g, absl::Duration interval, size_t value_bytes) {
  auto* p = static_cast<HostProgram*>(sim_.program(id));
  Env env = p->env;
  for (uint64_t k = 0; env.executor->Sleep(interval).ok(); ++k) {
    if (!writing_ || !p->opened) continue;
    GroupDriver* d = p->host->group(g);
    if (d == nullptr || d->stopped() || d->core().role() != Role::kLeader) continue;
    const std::string key = absl::StrCat("n", id, "-i", sim_.incarnation(id), "-", k);
    std::string value = absl::StrCat(k, ":");
    while (value.size() < value_bytes) value.push_back(static_cast<char>('a' + env.random->Uniform(26)));
    absl::StatusOr<Applied> r =
        d->Propose(absl::StrCat(key, "=", value)).Wait(absl::Seconds(2));
    if (r.ok()) acked_.push_back({g, r->index, key, value});
  }
}

size_t TestCluster::acked_count(GroupId g) const {
  return std::count_if(acked_.begin(), acked_.end(),
                       [g](const AckedWrite& w) { return w.group == g; });
}

void TestCluster::Spawn(NodeId id, std::function<void(HostProgram&)> body) {
  auto* p = static_cast<HostProgram*>(sim_.program(id));
  ASSERT_NE(p, nullptr);
  p->env.executor->Spawn("test", [p, body = std::move(body)] { body(*p); });
}

void TestCluster::CheckAckedWrites(GroupId g, std::vector<NodeId> nodes) {
  if (nodes.empty()) nodes = spec_.nodes;
  for (NodeId id : nodes) {
    KvMachine* m = machine(id, g);
    GroupDriver* d = group(id, g);
    if (m == nullptr || d == nullptr) continue;
    ASSERT_FALSE(d->stopped()) << "node " << id << " group " << g << ": " << d->failure() << "\n"
                               << sim::ReproCommand(seed_);
    size_t missing = 0;
    for (const AckedWrite& w : acked_) {
      if (w.group != g) continue;
      auto it = m->data.find(w.key);
      if (it == m->data.end() || it->second != w.value) ++missing;
    }
    EXPECT_EQ(missing, 0u) << "node " << id << " group " << g << " lacks acknowledged writes\n"
                           << sim::ReproCommand(seed_);
  }
}

void TestCluster::CheckConverged(GroupId g, const std::vector<NodeId>& nodes) {
  const KvMachine* reference = nullptr;
  NodeId reference_id = kNoNode;
  for (NodeId id : nodes) {
    KvMachine* m = machine(id, g);
    if (m == nullptr) continue;
    if (reference == nullptr) {
      reference = m;
      reference_id = id;
      continue;
    }
    EXPECT_EQ(m->data, reference->data) << "group " << g << ": node " << id << " differs from node "
                                        << reference_id << "\n" << sim::ReproCommand(seed_);
  }
}

}  // namespace crema::raft::testing
