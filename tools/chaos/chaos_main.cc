// chaos: Jepsen-style chaos against a cluster of real crema_server processes (tools/chaos/run.h,
// docs/chaos.md). Needs root (network namespaces, iptables, tmpfs mounts).
//
//   chaos --server_bin=PATH [--seed=S] [--duration=60s | --schedule=FILE] [--schedule_out=FILE]
//         [--history_out=FILE] [--workdir=DIR] [--keep_workdir] [--plant=follower_reads]
//         [--all_kinds] [--only_partitions] [--only_clocks] [--no_membership] [--no_net] [--clients=8]
//         [--expect_violations] [--cleanup_stale]
//
// Prints the seed and how to replay it first, a progress line every 10 s, the report, and last:
//   seed=<S> ops=<checked> faults=<applied> violations=<n> result=PASS|FAIL
// Exit 0 on PASS, 1 on FAIL, 2 on bad flags. With --expect_violations (the planted-bug test) the
// result is PASS iff the run found at least one violation.
// SIGINT / SIGTERM end the run early: everything it created is removed, and the result is FAIL.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "chaos/real/real_schedule.h"
#include "tools/chaos/run.h"
#include "tools/chaos/sandbox.h"

ABSL_FLAG(std::string, server_bin, "", "the crema_server binary (required)");
ABSL_FLAG(uint64_t, seed, 0, "the run's seed (0: a fresh random one)");
ABSL_FLAG(absl::Duration, duration, absl::Seconds(60), "length of the fault phase");
ABSL_FLAG(std::string, schedule, "", "replay this schedule file instead of generating one");
ABSL_FLAG(std::string, schedule_out, "", "write the run's schedule here (default: in /tmp)");
ABSL_FLAG(std::string, history_out, "", "write the history (JSON lines) here");
ABSL_FLAG(std::string, workdir, "", "run directory (default /tmp/crema-chaos/<pid>)");
ABSL_FLAG(bool, keep_workdir, false, "keep logs and data after the run");
ABSL_FLAG(std::string, plant, "", "TESTS ONLY: crema_server --testonly_plant (follower_reads)");
ABSL_FLAG(bool, all_kinds, false, "every fault kind on (else each on with probability 3/4)");
ABSL_FLAG(bool, only_partitions, false, "only partitions (the planted-bug test)");
ABSL_FLAG(bool, only_clocks, false, "only clock steps (with --max_clock_*: beyond the skew bound)");
ABSL_FLAG(bool, no_membership, false, "no wipe-readmit / graceful restart");
ABSL_FLAG(bool, no_net, false, "no packet-loss or delay windows");
ABSL_FLAG(std::string, netdelay_bin, "", "tools/chaos:netdelay (default: beside this binary)");
ABSL_FLAG(std::string, timer_shim, "",
          "tools/chaos:libtimerfd_passthrough.so, preloaded into every server ahead of libfaketime "
          "(default: beside this binary)");
ABSL_FLAG(int, clients, 8, "concurrent clients");
ABSL_FLAG(int, shards, 8, "shards of the cluster");
ABSL_FLAG(absl::Duration, mean_interval, absl::Seconds(3), "mean time between fault starts");
ABSL_FLAG(absl::Duration, max_fault_duration, absl::Seconds(6), "longest fault");
ABSL_FLAG(absl::Duration, max_clock_step, absl::ZeroDuration(),
          "largest clock step (0: max_clock_skew/4)");
ABSL_FLAG(absl::Duration, max_clock_offset, absl::ZeroDuration(),
          "bound on each node's wall-clock offset (0: max_clock_skew/4); beyond max_clock_skew/2 "
          "the cluster's skew assumption is broken on purpose (docs/chaos.md)");
ABSL_FLAG(bool, expect_violations, false, "PASS iff violations were found (planted-bug test)");
ABSL_FLAG(bool, cleanup_stale, false, "only remove leftovers of dead runs, then exit");

namespace {

constexpr char kBase[] = "/tmp/crema-chaos";
std::atomic<bool> g_interrupted{false};

void OnSignal(int) { g_interrupted = true; }

int Usage(const std::string& why) {
  std::fprintf(stderr, "chaos: %s (see tools/chaos/chaos_main.cc)\n", why.c_str());
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  // ip and iptables live in /usr/sbin, which test runners and sudo often leave off PATH.
  const char* path = std::getenv("PATH");
  setenv("PATH", absl::StrCat("/usr/sbin:/sbin:", path ? path : "/usr/bin:/bin").c_str(), 1);
  using namespace crema;
  // Line by line even into a file or pipe: progress is for watching (and for scripts waiting on it).
  std::cout.setf(std::ios::unitbuf);
  std::ostream& log = std::cout;
  if (absl::GetFlag(FLAGS_cleanup_stale)) {
    for (const std::string& r : chaos_tool::Sandbox::CleanupStale(kBase)) log << "removed " << r << "\n";
    return 0;
  }
  const std::string server_bin = absl::GetFlag(FLAGS_server_bin);
  if (server_bin.empty()) return Usage("--server_bin is required");
  if (absl::GetFlag(FLAGS_clients) < 1 || absl::GetFlag(FLAGS_clients) > 64) {
    return Usage("--clients must be in 1..64");
  }
  chaos::RealSchedule schedule;
  const std::string schedule_in = absl::GetFlag(FLAGS_schedule);
  if (!schedule_in.empty()) {
    std::ifstream in(schedule_in);
    std::stringstream text;
    text << in.rdbuf();
    absl::StatusOr<chaos::RealSchedule> parsed = chaos::RealScheduleFromJson(text.str());
    if (!in || !parsed.ok()) {
      return Usage("--schedule: " + (in ? std::string(parsed.status().message()) : "cannot read"));
    }
    schedule = *parsed;
  } else {
    uint64_t seed = absl::GetFlag(FLAGS_seed);
    if (seed == 0) seed = std::random_device()() | (uint64_t{std::random_device()()} << 32);
    chaos::RealScheduleOptions so;
    so.duration = absl::GetFlag(FLAGS_duration);
    so.clients = absl::GetFlag(FLAGS_clients);
    so.shards = absl::GetFlag(FLAGS_shards);
    so.mean_interval = absl::GetFlag(FLAGS_mean_interval);
    so.max_fault_duration = absl::GetFlag(FLAGS_max_fault_duration);
    so.all_kinds = absl::GetFlag(FLAGS_all_kinds);
    so.max_clock_step = absl::GetFlag(FLAGS_max_clock_step);
    so.only_partitions = absl::GetFlag(FLAGS_only_partitions);
    so.only_clocks = absl::GetFlag(FLAGS_only_clocks);
    so.max_clock_offset = absl::GetFlag(FLAGS_max_clock_offset);
    so.membership = !absl::GetFlag(FLAGS_no_membership);
    so.net = !absl::GetFlag(FLAGS_no_net);
    if (so.duration < absl::Seconds(5)) return Usage("--duration must be at least 5s");
    schedule = chaos::GenerateRealSchedule(so, seed);
  }
  std::string schedule_out = absl::GetFlag(FLAGS_schedule_out);
  if (schedule_out.empty()) schedule_out = absl::StrCat("/tmp/crema-chaos-", schedule.seed, ".schedule.json");
  std::ofstream(schedule_out) << chaos::RealScheduleToJson(schedule);
  log << "chaos: seed=" << schedule.seed << " nodes=" << schedule.nodes
      << " duration=" << absl::FormatDuration(schedule.duration)
      << " nemesis_actions=" << schedule.nemesis.actions.size() << "\n"
      << "chaos: schedule written to " << schedule_out << "\n"
      << "chaos: replay on real processes: tools/chaos.sh --schedule=" << schedule_out
      << "   (or --seed=" << schedule.seed << " --minutes=...)\n"
      << "chaos: replay in the simulator:  bazel run //tools:sim -- --scenario=cache --schedule="
      << schedule_out << "\n"
      << "chaos: nemesis:\n" << schedule.nemesis.ToString() << std::flush;

  struct sigaction sa {};
  sa.sa_handler = OnSignal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGHUP, &sa, nullptr);
  signal(SIGPIPE, SIG_IGN);
  for (const std::string& r : chaos_tool::Sandbox::CleanupStale(kBase)) {
    log << "chaos: removed a leftover of a dead run: " << r << "\n";
  }

  chaos_tool::RunOptions o;
  o.schedule = schedule;
  o.server_bin = server_bin;
  char self[4096];
  const ssize_t self_len = readlink("/proc/self/exe", self, sizeof self - 1);
  const std::string exe = self_len > 0 ? std::string(self, static_cast<size_t>(self_len)) : "";
  const std::string exe_dir = exe.substr(0, exe.rfind('/') + 1);
  o.netdelay_bin = absl::GetFlag(FLAGS_netdelay_bin);
  if (o.netdelay_bin.empty()) o.netdelay_bin = exe_dir + "netdelay";
  o.timer_shim = absl::GetFlag(FLAGS_timer_shim);
  if (o.timer_shim.empty()) o.timer_shim = exe_dir + "libtimerfd_passthrough.so";
  o.workdir = absl::GetFlag(FLAGS_workdir);
  if (o.workdir.empty()) o.workdir = absl::StrCat(kBase, "/", getpid());
  o.keep_workdir = absl::GetFlag(FLAGS_keep_workdir);
  o.plant = absl::GetFlag(FLAGS_plant);
  // A replayed schedule carries its own bound; the flag overrides it.
  o.max_clock_offset = absl::GetFlag(FLAGS_max_clock_offset) > absl::ZeroDuration()
                           ? absl::GetFlag(FLAGS_max_clock_offset)
                           : schedule.max_clock_offset;
  o.history_out = absl::GetFlag(FLAGS_history_out);
  o.interrupted = &g_interrupted;
  o.log = &log;
  const chaos_tool::RunReport report = chaos_tool::RunChaos(o);

  log << "chaos: faults applied by kind:";
  for (const auto& [kind, n] : report.applied_by_kind) log << " " << kind << "=" << n;
  log << "\nchaos: skipped (precondition or unsupported):";
  for (const auto& [kind, n] : report.skipped_by_kind) log << " " << kind << "=" << n;
  log << absl::StrFormat("\nchaos: recovery_s=%.2f convergence_s=%.2f\n", report.recovery_seconds,
                         report.convergence_seconds);
  bool pass = report.passed();
  if (absl::GetFlag(FLAGS_expect_violations)) {
    pass = report.violations > 0;
    log << "chaos: expecting violations (planted bug '" << o.plant << "'): "
        << (pass ? "caught" : "NOT caught") << "\n";
  }
  if (!pass) {
    log << "chaos: replay: tools/chaos.sh --schedule=" << schedule_out
        << "; in the simulator: bazel run //tools:sim -- --scenario=cache --schedule=" << schedule_out
        << "\n";
  }
  log << "seed=" << schedule.seed << " ops=" << report.operations << " faults=" << report.faults_applied
      << " violations=" << report.violations << " result=" << (pass ? "PASS" : "FAIL") << std::endl;
  return pass ? 0 : 1;
}
