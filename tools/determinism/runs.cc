#include "tools/determinism/runs.h"

#include <cstdlib>
#include <fstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "sim/schedule.h"
#include "tools/seed_farm/child_process.h"

namespace crema::determinism {

std::vector<std::string> RunSim(const std::string& runfile, std::vector<std::string> args) {
  const char* dir = std::getenv("TEST_SRCDIR");
  args.insert(args.begin(), {absl::StrCat(dir ? dir : ".", "/crema/", runfile), "--quiet"});
  absl::StatusOr<farm::ChildProcess::Completed> done =
      farm::ChildProcess::RunToCompletion(args, absl::Minutes(10));
  EXPECT_TRUE(done.ok()) << done.status();
  if (!done.ok()) return {};
  EXPECT_TRUE(done->exit.exited && done->exit.code <= 1) << done->stderr_tail;
  return done->stdout_lines;
}

std::string LongPingSchedule(uint64_t seed, absl::Duration safety) {
  sim::Schedule s;
  s.scenario = "ping";
  s.seed = seed;
  s.params["safety_ns"] = {absl::ToInt64Nanoseconds(safety), absl::ToInt64Nanoseconds(safety)};
  const char* tmp = std::getenv("TEST_TMPDIR");
  const std::string path = absl::StrCat(tmp ? tmp : "/tmp", "/long-", seed, ".schedule.json");
  std::ofstream(path) << s.ToJson();
  return path;
}

std::vector<std::string> HashLines(const std::vector<std::string>& lines) {
  std::vector<std::string> out;
  for (const std::string& line : lines) {
    if (line.rfind("checkpoint ", 0) == 0 || line.rfind("seed=", 0) == 0) out.push_back(line);
  }
  return out;
}

uint64_t LastCheckpointEvents(const std::vector<std::string>& hash_lines) {
  uint64_t events = 0;
  for (const std::string& line : hash_lines) {
    if (line.rfind("checkpoint events=", 0) != 0) continue;
    const std::string rest = line.substr(18);
    (void)absl::SimpleAtoi(rest.substr(0, rest.find(' ')), &events);
  }
  return events;
}

}  // namespace crema::determinism
