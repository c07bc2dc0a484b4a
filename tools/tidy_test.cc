// Tidy must catch planted violations (in testdata/, not the real tree) and find none in the tree.
#include "tools/tidy.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <set>

namespace crema::tidy {
namespace {

namespace fs = std::filesystem;

// The real workspace: follow the runfiles symlink of a source file back to the checkout.
std::string WorkspaceRoot() {
  const char* srcdir = std::getenv("TEST_SRCDIR");
  if (srcdir == nullptr) return ".";
  const fs::path build = fs::path(srcdir) / "crema" / "tools" / "BUILD";
  return fs::canonical(build).parent_path().parent_path().string();
}

std::string TestdataRoot() { return WorkspaceRoot() + "/tools/testdata/tidy"; }

std::set<std::string> RulesIn(const std::vector<Violation>& vs, const std::string& path) {
  std::set<std::string> rules;
  for (const Violation& v : vs) {
    if (v.path == path) rules.insert(v.rule);
  }
  return rules;
}

TEST(TidyTest, CatchesEveryPlantedViolation) {
  const std::vector<Violation> found = CheckTree(TestdataRoot());
  for (const Violation& v : found) {
    std::cerr << v.path << ":" << v.line << ": " << v.rule << ": " << v.text << "\n";
  }
  EXPECT_EQ(RulesIn(found, "node/clock_violation.cc"),
            (std::set<std::string>{"system clock", "sleep"}));
  EXPECT_EQ(RulesIn(found, "consensus/thread_violation.cc"), (std::set<std::string>{"thread"}));
  EXPECT_EQ(RulesIn(found, "cache/file_violation.cc"), (std::set<std::string>{"file"}));
  EXPECT_EQ(RulesIn(found, "chaos/random_violation.cc"),
            (std::set<std::string>{"unseeded random", "socket"}));
}

TEST(TidyTest, IgnoresCommentsStringsExemptFilesAndOtherFolders) {
  const std::vector<Violation> found = CheckTree(TestdataRoot());
  EXPECT_TRUE(RulesIn(found, "chaos/clean.cc").empty());
  EXPECT_TRUE(RulesIn(found, "sim/allowed.cc").empty());
  EXPECT_TRUE(RulesIn(found, "node/exempt_test.cc").empty());
}

TEST(TidyTest, StripKeepsLinesAndBlanksCommentsAndStrings) {
  const std::string s = StripCommentsAndStrings("a // rand()\n\"std::thread\" /* x\ny */ b");
  EXPECT_EQ(std::count(s.begin(), s.end(), '\n'), 2);
  EXPECT_EQ(s.find("rand"), std::string::npos);
  EXPECT_EQ(s.find("thread"), std::string::npos);
  EXPECT_NE(s.find('b'), std::string::npos);
}

TEST(TidyTest, RealTreeIsClean) {
  const std::string root = WorkspaceRoot();
  ASSERT_TRUE(fs::is_directory(root + "/node")) << "workspace not found at " << root;
  const std::vector<Violation> found = CheckTree(root);
  for (const Violation& v : found) {
    ADD_FAILURE() << v.path << ":" << v.line << ": " << v.rule
                  << " — go through the environment (node/env.h): " << v.text;
  }
}

}  // namespace
}  // namespace crema::tidy
