#include "transport/logging/log.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <sstream>

namespace crema::log {
namespace {

TEST(LogTest, FormatsLogfmtAndQuotes) {
  EXPECT_EQ(FormatFields("listening", {{"resp", "127.0.0.1:1"}, {"n", 3}}),
            "event=listening resp=127.0.0.1:1 n=3");
  EXPECT_EQ(FormatFields("x", {{"why", "a b=\"c\"\n"}, {"empty", ""}}),
            "event=x why=\"a b=\\\"c\\\"\\n\" empty=\"\"");
}

TEST(LogTest, WritesLevelledLinesWithTheNodeId) {
  const std::string path = std::string(getenv("TEST_TMPDIR")) + "/crema.log";
  ASSERT_TRUE(Init({.node_id = 7, .level = "info", .file = path}).ok());
  Debug("hidden");
  Info("started", {{"resp", "127.0.0.1:6379"}});
  Error("boom", {{"code", 1}});
  Flush();
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  const std::string all = text.str();
  EXPECT_EQ(all.find("hidden"), std::string::npos) << all;
  EXPECT_NE(all.find("level=info node=7 event=started resp=127.0.0.1:6379"), std::string::npos)
      << all;
  EXPECT_NE(all.find("level=error node=7 event=boom code=1"), std::string::npos) << all;
  EXPECT_EQ(all.substr(0, 3), "ts=");
}

TEST(LogTest, RejectsUnknownLevel) {
  Options bad;
  bad.level = "loud";
  EXPECT_FALSE(Init(bad).ok());
  Level l;
  EXPECT_TRUE(ParseLevel("warn", &l));
  EXPECT_EQ(l, Level::kWarn);
}

}  // namespace
}  // namespace crema::log
