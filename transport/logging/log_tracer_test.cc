#include "transport/logging/log_tracer.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace crema::log {
namespace {

TEST(LogTracerTest, FailuresAreWarningsEverythingElseDebug) {
  EXPECT_EQ(TraceLevel("raft.stopped"), Level::kWarn);
  EXPECT_EQ(TraceLevel("cache.replica_corrupt"), Level::kWarn);
  EXPECT_EQ(TraceLevel("raft.log_corrupt"), Level::kWarn);
  EXPECT_EQ(TraceLevel("raft.role"), Level::kDebug);
  EXPECT_EQ(TraceLevel("raft.checkpoint"), Level::kDebug);
  EXPECT_EQ(TraceLevel(""), Level::kDebug);
}

TEST(LogTracerTest, RecordsBecomeLogLinesAtTheirLevel) {
  const std::string path = std::string(getenv("TEST_TMPDIR")) + "/tracer.log";
  ASSERT_TRUE(Init({.node_id = 4, .level = "info", .file = path}).ok());
  LogTracer tracer;
  tracer.Record("raft.role", "20 leader term=3");  // debug: below the level
  tracer.Record("raft.stopped", "20 disk full");
  Flush();
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  const std::string all = text.str();
  EXPECT_EQ(all.find("raft.role"), std::string::npos) << all;
  EXPECT_NE(all.find("level=warning node=4 event=raft.stopped detail=\"20 disk full\""),
            std::string::npos)
      << all;
}

}  // namespace
}  // namespace crema::log
