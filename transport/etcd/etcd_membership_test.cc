// The etcd membership source against a real etcd 3.4 (Debian's etcd-server), which the test
// starts on loopback with a temporary data directory, stops and restarts. Members are real
// processes (etcd_member) that the test starts, SIGTERMs (graceful leave) and SIGKILLs (the lease
// must expire). An in-process EtcdMembershipSource watches it all:
//   * joins and leaves are seen through the watch;
//   * a SIGKILLed member's lease expires and it is reported dead, not before it could have;
//   * an etcd restart is survived: the view survives the outage, the watch comes back, later
//     joins are seen, and the observer's own key is (again) in etcd.
// Every process the test starts is killed at the end, also on failure (ChildProcess).
#include <boost/asio/ip/tcp.hpp>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "node/executor.h"
#include "transport/asio_loop.h"
#include "transport/etcd/etcd_membership_source.h"
#include "transport/etcd/testing/child_process.h"
#include "transport/real_clock.h"

namespace crema::transport {
namespace {

using membership::MembershipEventKind;
using testing::ChildProcess;

constexpr char kEtcd[] = "/usr/bin/etcd";
constexpr char kEtcdctl[] = "/usr/bin/etcdctl";
constexpr char kPrefix[] = "/crema/test/";
constexpr absl::Duration kTtl = absl::Seconds(3);

std::string TmpDir() {
  const char* tmp = std::getenv("TEST_TMPDIR");
  return tmp != nullptr ? tmp : "/tmp";
}

std::string MemberBinary() {
  const char* srcdir = std::getenv("TEST_SRCDIR");
  const char* workspace = std::getenv("TEST_WORKSPACE");
  if (srcdir != nullptr && workspace != nullptr) {
    return std::string(srcdir) + "/" + workspace + "/transport/etcd/etcd_member";
  }
  return "transport/etcd/etcd_member";
}

uint16_t FreePort(AsioLoop& loop) {
  boost::asio::ip::tcp::acceptor a(loop.io_context(), {boost::asio::ip::make_address("127.0.0.1"), 0});
  return a.local_endpoint().port();
}

class EtcdMembershipTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(::access(kEtcd, X_OK), 0) << kEtcd << " missing: run tools/install_deps.sh (etcd-server)";
    client_port_ = FreePort(loop_);
    peer_port_ = FreePort(loop_);
    data_dir_ = TmpDir() + "/etcd-data";
  }
  void TearDown() override {
    if (HasFailure()) {
      if (etcd_) std::fprintf(stderr, "---- etcd ----\n%s\n", etcd_->Output().substr(0, 20000).c_str());
      for (auto& [id, m] : members_) std::fprintf(stderr, "---- member %u ----\n%s\n", id, m->Output().c_str());
    }
    if (observer_) observer_->Stop();
    members_.clear();  // SIGKILL + reap
    etcd_.reset();
  }

  void StartEtcd() {
    const std::string client = absl::StrCat("http://127.0.0.1:", client_port_);
    const std::string peer = absl::StrCat("http://127.0.0.1:", peer_port_);
    etcd_ = std::make_unique<ChildProcess>(
        std::vector<std::string>{kEtcd, "--name=crema-test", "--data-dir=" + data_dir_,
                                 "--listen-client-urls=" + client, "--advertise-client-urls=" + client,
                                 "--listen-peer-urls=" + peer, "--initial-advertise-peer-urls=" + peer,
                                 "--initial-cluster=crema-test=" + peer},
        TmpDir() + "/etcd.log");
    ASSERT_TRUE(etcd_->started());
    // Ready once a read goes through.
    EtcdClient probe(loop_.io_context(), {"127.0.0.1", client_port_, absl::Seconds(1)});
    bool ready = false;
    const absl::Time deadline = absl::Now() + absl::Seconds(60);
    while (!ready && absl::Now() < deadline && etcd_->Running()) {
      bool answered = false;
      probe.Call("/v3/kv/range", {{"key", Base64Encode("probe")}}, [&](absl::StatusOr<nlohmann::json> r) {
        answered = true;
        ready = r.ok();
      });
      loop_.RunUntil([&] { return answered; }, absl::Seconds(2));
      if (!ready) loop_.RunUntil([] { return false; }, absl::Milliseconds(200));
    }
    ASSERT_TRUE(ready) << "etcd did not come up";
  }

  void StopEtcd() {
    etcd_->Kill(SIGTERM);
    etcd_->Wait();
  }

  ChildProcess& StartMember(NodeId id) {
    members_[id] = std::make_unique<ChildProcess>(
        std::vector<std::string>{MemberBinary(), absl::StrCat("--id=", id),
                                 absl::StrCat("--port=", client_port_), absl::StrCat("--prefix=", kPrefix),
                                 absl::StrCat("--ttl_ms=", absl::ToInt64Milliseconds(kTtl))},
        absl::StrCat(TmpDir(), "/member-", id, ".log"));
    return *members_[id];
  }

  void StartObserver() {
    EtcdMembershipConfig config;
    config.port = client_port_;
    config.prefix = kPrefix;
    config.lease_ttl = kTtl;
    config.request_timeout = absl::Seconds(1);
    config.max_backoff = absl::Milliseconds(500);
    observer_ = std::make_unique<EtcdMembershipSource>(1, &executor_, &clock_, loop_.io_context(), config);
    ASSERT_TRUE(observer_->Subscribe([this](const membership::MembershipEvent& e) {
      events_.push_back({e.kind, e.member.id});
    }).ok());
    ASSERT_TRUE(observer_->Start().ok());
  }

  bool Saw(MembershipEventKind kind, NodeId id) const {
    for (const auto& [k, n] : events_) {
      if (k == kind && n == id) return true;
    }
    return false;
  }

  bool RunUntil(const std::function<bool()>& done, absl::Duration timeout) {
    return loop_.RunUntil([&] { return done(); }, timeout);
  }

  std::string Etcdctl(const std::string& args) {
    const std::string command = absl::StrCat("ETCDCTL_API=3 ", kEtcdctl, " --endpoints=http://127.0.0.1:",
                                             client_port_, " ", args, " 2>&1");
    std::string out;
    if (FILE* pipe = ::popen(command.c_str(), "r")) {
      char buffer[4096];
      size_t n;
      while ((n = std::fread(buffer, 1, sizeof(buffer), pipe)) > 0) out.append(buffer, n);
      ::pclose(pipe);
    }
    return out;
  }

  AsioLoop loop_;
  RealClock clock_;
  // Destroyed after the executor, which unwinds its session fiber (parked on the source's state).
  std::unique_ptr<EtcdMembershipSource> observer_;
  Executor executor_{&loop_, &clock_};
  uint16_t client_port_ = 0, peer_port_ = 0;
  std::string data_dir_;
  std::unique_ptr<ChildProcess> etcd_;
  std::map<NodeId, std::unique_ptr<ChildProcess>> members_;
  std::vector<std::pair<MembershipEventKind, NodeId>> events_;
};

TEST_F(EtcdMembershipTest, JoinsLeavesCrashesAndEtcdRestarts) {
  StartEtcd();
  StartObserver();
  ASSERT_TRUE(RunUntil([&] { return observer_->Joined(); }, absl::Seconds(10)));

  // Joins, seen through the watch; a newcomer's first listing shows the members already there.
  StartMember(2);
  StartMember(3);
  ASSERT_TRUE(RunUntil([&] { return Saw(MembershipEventKind::kJoined, 2) && Saw(MembershipEventKind::kJoined, 3); },
                       absl::Seconds(20)));
  EXPECT_TRUE(observer_->IsAvailable(2) && observer_->IsAvailable(3));
  ASSERT_TRUE(RunUntil([&] { return absl::StrContains(members_[3]->Output(), "event joined 1"); },
                       absl::Seconds(10)));

  // A graceful leave (SIGTERM): reported as left at once, well within the lease TTL.
  const absl::Time term_at = absl::Now();
  members_[3]->Kill(SIGTERM);
  ASSERT_TRUE(RunUntil([&] { return Saw(MembershipEventKind::kLeft, 3); }, absl::Seconds(10)));
  EXPECT_LT(absl::Now() - term_at, kTtl);
  EXPECT_EQ(members_[3]->Wait(), 0);
  EXPECT_TRUE(absl::StrContains(members_[3]->Output(), "left"));
  EXPECT_FALSE(observer_->IsAvailable(3));

  // A crash (SIGKILL): nobody deletes the key; the lease expires and the member is dead.
  const absl::Time kill_at = absl::Now();
  members_[2]->Kill(SIGKILL);
  ASSERT_TRUE(RunUntil([&] { return Saw(MembershipEventKind::kDead, 2); }, kTtl + absl::Seconds(15)));
  EXPECT_GE(absl::Now() - kill_at, kTtl / 3);  // the lease had to run out; not an instant delete
  EXPECT_FALSE(observer_->IsAvailable(2));

  // etcd goes away and comes back on the same data directory: the view survives the outage, the
  // watch is re-established, later joins are seen, and the observer is (again) in etcd.
  StopEtcd();
  RunUntil([] { return false; }, absl::Seconds(2));
  EXPECT_TRUE(observer_->IsAvailable(1));
  StartEtcd();
  StartMember(4);
  ASSERT_TRUE(RunUntil([&] { return Saw(MembershipEventKind::kJoined, 4); }, absl::Seconds(30)));
  ASSERT_TRUE(RunUntil([&] { return absl::StrContains(members_[4]->Output(), "event joined 1"); },
                       absl::Seconds(20)));
  const std::string keys = Etcdctl(absl::StrCat("get --prefix --keys-only ", kPrefix));
  EXPECT_TRUE(absl::StrContains(keys, "/crema/test/1")) << keys;
  EXPECT_TRUE(absl::StrContains(keys, "/crema/test/4")) << keys;
  EXPECT_FALSE(absl::StrContains(keys, "/crema/test/2")) << keys;
  EXPECT_GE(observer_->watches_started(), 2u);
}

}  // namespace
}  // namespace crema::transport
