// The farm's report on made-up outcomes: grouping by signature with the smallest repro, coverage
// rows and every kind of flag, crash signatures from stderr, and the JSON form.
#include "tools/seed_farm/report.h"

#include <gtest/gtest.h>

#include "nlohmann/json.hpp"
#include "tools/seed_farm/child_process.h"
#include "tools/seed_farm/sweep.h"

namespace crema::farm {
namespace {

SeedOutcome Outcome(uint64_t seed, bool pass, std::string signature, uint64_t events) {
  SeedOutcome o;
  o.seed = seed;
  o.pass = pass;
  o.signature = std::move(signature);
  o.events = events;
  o.message = "m" + std::to_string(seed);
  return o;
}

TEST(ReportTest, GroupsFlagsAndJson) {
  SweepOptions options;
  options.scenario = "toy";
  options.extra_args = {"--faults=heavy"};
  options.seeds = {1, 2, 3, 4, 5};
  SweepResult result;
  result.outcomes = {Outcome(1, true, "", 100), Outcome(2, false, "a | b | c", 900),
                     Outcome(3, false, "a | b | c", 300), Outcome(4, false, "x | y | z", 50),
                     Outcome(5, true, "", 100)};
  for (SeedOutcome& o : result.outcomes) {
    o.coverage.Add("fault.crash", o.seed % 2);       // fired in seeds 1, 3, 5
    o.coverage.Declare("effect.crash");              // ... but never mattered
    o.coverage.Declare("fault.pause");               // never fired
    o.coverage.Add("fault.drop", 3);                 // fired, no effect.* counter: fine
    o.coverage.Oracle("lin", 0);                     // never exercised
    o.coverage.Sometimes("rare", o.seed == 4);       // occurred once: fine
    o.coverage.Sometimes("never", false);            // never occurred
    o.coverage.Declare("buggify.site");              // reached, never fired
    o.coverage.Add("stat.ops", 7);                   // never flagged
  }
  const SweepReport r = Summarise(options, result);
  EXPECT_EQ(r.seeds_run, 5u);
  EXPECT_EQ(r.seeds_failed, 3u);
  ASSERT_EQ(r.groups.size(), 2u);
  EXPECT_EQ(r.groups[0].signature, "a | b | c");
  EXPECT_EQ(r.groups[0].seeds, (std::vector<uint64_t>{2, 3}));
  EXPECT_EQ(r.groups[0].smallest_seed, 3u) << "fewest events";
  EXPECT_EQ(r.groups[0].repro, "bazel run //tools:sim -- --scenario=toy --seed=3 --faults=heavy");
  EXPECT_EQ(r.flags.size(), 5u) << ReportMarkdown(r);
  auto flag_of = [&](const std::string& name) {
    for (const CoverageRow& row : r.coverage) {
      if (row.name == name) return row.flag;
    }
    return std::string("(missing)");
  };
  EXPECT_EQ(flag_of("fault.crash"), "fired in 3 seeds but never mattered");
  EXPECT_EQ(flag_of("fault.pause"), "never fired");
  EXPECT_EQ(flag_of("fault.drop"), "");
  EXPECT_EQ(flag_of("oracle.lin"), "never exercised");
  EXPECT_EQ(flag_of("sometimes.rare"), "");
  EXPECT_EQ(flag_of("sometimes.never"), "never occurred");
  EXPECT_EQ(flag_of("buggify.site"), "reached while active but never fired");
  EXPECT_EQ(flag_of("stat.ops"), "");
  const nlohmann::json j = nlohmann::json::parse(ReportJson(r));
  EXPECT_EQ(j["seeds_failed"], 3);
  EXPECT_EQ(j["groups"][0]["seeds"].size(), 2u);
  EXPECT_EQ(j["coverage"]["fault.crash"]["seeds_hit"], 3);
  const std::string md = ReportMarkdown(r);
  EXPECT_NE(md.find("`a | b | c` — 2 seed(s)"), std::string::npos) << md;
}

TEST(ReportTest, CrashSignatures) {
  EXPECT_EQ(CrashSignature("sim: consensus/raft.cc:88: void crema::raft::Raft::Step(): Assertion "
                           "`m.term >= term_' failed.\n",
                           "signal 6 (SIGABRT)"),
            "crash | assertion `m.term >= term_` | consensus/raft.cc");
  EXPECT_EQ(CrashSignature("Segmentation fault\n", "signal 11 (SIGSEGV)"),
            "crash | signal # (SIGSEGV) | -");
  EXPECT_EQ(DescribeExit({false, -1, 6}), "signal 6 (SIGABRT)");
  EXPECT_EQ(DescribeExit({true, 1, 0}), "exit 1");
}

TEST(ReportTest, ProgressLine) {
  Progress p{.done = 250, .total = 1000, .failed = 2, .groups = 1, .elapsed = absl::Seconds(10)};
  EXPECT_EQ(ProgressLine(p), "farm: 250/1000 seeds  25.0/s  2 failed (1 group)  ETA 30s");
}

}  // namespace
}  // namespace crema::farm
