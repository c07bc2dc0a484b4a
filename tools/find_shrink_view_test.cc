// The whole loop on a planted bug (ping's rename-without-sync), as a user would run it:
//   1. the farm sweeps fresh seeds and finds the bug, grouped under one signature;
//   2. the shrinker reduces the group's smallest seed to a small schedule file;
//   3. the schedule file replays the failure (same signature) with --trace_out;
//   4. the viewer renders that trace, and headless chromium draws it with no error, the failing
//      oracle marked (and the Chrome/Perfetto export is valid JSON).
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <regex>
#include <string>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "sim/result_json.h"
#include "sim/test_seed.h"
#include "tools/seed_farm/child_process.h"
#include "tools/seed_farm/report.h"
#include "tools/seed_farm/sweep.h"
#include "tools/shrinking/shrink.h"

namespace crema {
namespace {

std::string Runfile(const std::string& path) {
  const char* dir = std::getenv("TEST_SRCDIR");
  return absl::StrCat(dir ? dir : ".", "/crema/", path);
}

std::string Tmp(const std::string& name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  return absl::StrCat(dir ? dir : "/tmp", "/", name);
}

farm::ChildProcess::Completed RunTool(const std::vector<std::string>& argv) {
  absl::StatusOr<farm::ChildProcess::Completed> done =
      farm::ChildProcess::RunToCompletion(argv, absl::Minutes(2));
  EXPECT_TRUE(done.ok()) << argv[0];
  return done.ok() ? *done : farm::ChildProcess::Completed{};
}

TEST(FindShrinkViewTest, PlantedBugFoundGroupedShrunkReplayedAndDrawn) {
  const std::string planted = "--planted_bug=rename-without-sync";
  // 1. Find.
  farm::SweepOptions sweep;
  sweep.sim_binary = Runfile("tools/sim");
  sweep.scenario = "ping";
  sweep.seeds = farm::ConsecutiveSeeds(sim::TestSeed(), 80);
  sweep.extra_args = {planted};
  sweep.jobs = 2;
  const farm::SweepReport report = farm::Summarise(sweep, farm::RunSweep(sweep));
  ASSERT_EQ(report.groups.size(), 1u) << farm::ReportMarkdown(report);
  const farm::FailureGroup& group = report.groups[0];
  std::cerr << "found: " << group.signature << " in " << group.seeds.size() << " seeds; "
            << group.repro << "\n";

  // 2. Shrink.
  shrink::ShrinkOptions s;
  s.sim_binary = sweep.sim_binary;
  s.scenario = "ping";
  s.seed = group.smallest_seed;
  s.extra_args = {planted};
  s.jobs = 2;
  const shrink::ShrinkResult shrunk = shrink::Shrink(s);
  ASSERT_EQ(shrunk.error, "");
  EXPECT_EQ(shrunk.signature, group.signature);
  EXPECT_LT(shrunk.shrunk.Size(), shrunk.original.Size());
  std::cerr << "shrunk: " << shrink::DescribeShrink(shrunk) << "\n";
  const std::string schedule = Tmp("demo.schedule.json");
  std::ofstream(schedule) << shrunk.shrunk.ToJson();

  // 3. Replay from the file, with a trace.
  const std::string trace = Tmp("demo.jsonl");
  const farm::ChildProcess::Completed replay =
      RunTool({sweep.sim_binary, "--quiet", "--json", "--scenario=ping",
           absl::StrCat("--seed=", group.smallest_seed), planted, "--schedule=" + schedule,
           "--trace_out=" + trace});
  bool replayed = false;
  for (const std::string& line : replay.stdout_lines) {
    if (line.empty() || line[0] != '{') continue;
    absl::StatusOr<sim::RunRecord> r = sim::ParseResultJsonLine(line);
    ASSERT_TRUE(r.ok());
    EXPECT_FALSE(r->pass);
    EXPECT_EQ(r->signature, group.signature);
    replayed = true;
  }
  ASSERT_TRUE(replayed);

  // 4. View.
  const std::string html = Tmp("demo.html"), chrome = Tmp("demo.trace.json");
  const farm::ChildProcess::Completed view =
      RunTool({Runfile("tools/trace_view"), "--trace=" + trace, "--out=" + html, "--chrome_out=" + chrome});
  ASSERT_TRUE(view.exit.exited && view.exit.code == 0) << view.stderr_tail;
  std::ifstream chrome_in(chrome);
  EXPECT_FALSE(nlohmann::json::parse(chrome_in, nullptr, false).is_discarded());
  std::ifstream page_in(html);
  const std::string page((std::istreambuf_iterator<char>(page_in)), std::istreambuf_iterator<char>());
  EXPECT_NE(page.find("\"fail\",\"counter | acknowledged add lost | final"), std::string::npos)
      << "the failing oracle's event is in the page's model";
  ASSERT_EQ(access("/usr/bin/chromium", X_OK), 0) << "run tools/install_deps.sh (chromium)";
  setenv("HOME", Tmp("").c_str(), 1);
  const farm::ChildProcess::Completed dom = RunTool(
      {"/usr/bin/chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
       "--no-first-run", "--disable-background-networking", "--disable-component-update",
       "--disable-sync", "--disable-dev-shm-usage", "--user-data-dir=" + Tmp("profile"),
       "--window-size=1400,900", "--virtual-time-budget=5000", "--dump-dom", "file://" + html});
  std::string body;
  for (const std::string& line : dom.stdout_lines) {
    if (line.find("<body") != std::string::npos) body = line;
  }
  EXPECT_NE(body.find("data-status=\"drawn\""), std::string::npos) << body;
  EXPECT_EQ(body.find("data-error"), std::string::npos) << body;
}

}  // namespace
}  // namespace crema
