// etcd_member: one process holding a membership in etcd through EtcdMembershipSource — for the
// etcd membership test (which starts, SIGKILLs and SIGTERMs several of them) and for trying the
// etcd source by hand. Prints one line per membership event it sees, flushed:
//   view <id,id,...>        once its first listing is in (Joined)
//   event <kind> <id>       kind: joined | updated | left | dead
// SIGTERM or SIGINT: leaves gracefully (state "left", lease revoked), prints "left", exits 0.
//
//   bazel run //transport/etcd:etcd_member -- --id=2 --port=2379 --prefix=/crema/members/
#include <csignal>
#include <cstdio>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_join.h"
#include "node/executor.h"
#include "transport/asio_loop.h"
#include "transport/etcd/etcd_membership_source.h"
#include "transport/real_clock.h"

ABSL_FLAG(uint32_t, id, 0, "this member's node id (> 0)");
ABSL_FLAG(std::string, host, "127.0.0.1", "etcd client host");
ABSL_FLAG(int, port, 2379, "etcd client port");
ABSL_FLAG(std::string, prefix, "/crema/members/", "key prefix of the membership");
ABSL_FLAG(int, ttl_ms, 10000, "lease TTL in milliseconds (keep-alive every TTL/3)");

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  const crema::NodeId id = absl::GetFlag(FLAGS_id);
  if (id == crema::kNoNode || absl::GetFlag(FLAGS_port) <= 0 || absl::GetFlag(FLAGS_port) > 65535 ||
      absl::GetFlag(FLAGS_ttl_ms) < 1000) {
    std::fprintf(stderr, "usage: etcd_member --id=N (>0) [--port=P] [--prefix=...] [--ttl_ms>=1000]\n");
    return 2;
  }
  crema::transport::AsioLoop loop;
  crema::transport::RealClock clock;
  crema::Executor executor(&loop, &clock);
  crema::transport::EtcdMembershipConfig config;
  config.host = absl::GetFlag(FLAGS_host);
  config.port = static_cast<uint16_t>(absl::GetFlag(FLAGS_port));
  config.prefix = absl::GetFlag(FLAGS_prefix);
  config.lease_ttl = absl::Milliseconds(absl::GetFlag(FLAGS_ttl_ms));
  config.address = "process:" + std::to_string(id);
  crema::transport::EtcdMembershipSource source(id, &executor, &clock, loop.io_context(), config);
  (void)source.Subscribe([](const crema::membership::MembershipEvent& e) {
    std::printf("event %s %u\n", std::string(crema::membership::MembershipEventKindName(e.kind)).c_str(),
                e.member.id);
    std::fflush(stdout);
  });
  if (!source.Start().ok()) return 1;
  executor.Spawn("announce-view", [&] {
    while (!source.Joined()) {
      if (!executor.Sleep(absl::Milliseconds(20)).ok()) return;
    }
    std::vector<crema::NodeId> ids;
    for (const auto& m : source.Members()) ids.push_back(m.id);
    std::printf("view %s\n", absl::StrJoin(ids, ",").c_str());
    std::fflush(stdout);
  });
  loop.StopOnSignals();
  loop.Run();
  source.Leave();
  loop.RunUntil([&] { return source.lease() == 0 || !source.Joined(); }, absl::Seconds(3));
  loop.RunUntil([] { return false; }, absl::Milliseconds(200));
  // The source is destroyed before the executor: its session fiber must have returned.
  source.Stop();
  loop.RunUntil([&] { return !source.session_running(); }, absl::Seconds(1));
  std::printf("left\n");
  std::fflush(stdout);
  return 0;
}
