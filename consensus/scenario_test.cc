// Runs every scenario script in consensus/testdata/ and compares its regenerated output with the
// file (golden test). To regenerate after an intended change, run
//   CREMA_REWRITE_GOLDEN=1 bazel run //consensus:scenario_test
// and review the diff (git diff consensus/testdata) line by line before committing.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "consensus/testing/scenario.h"
#include "gtest/gtest.h"

namespace crema::raft::testing {
namespace {

std::string ReadFile(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::filesystem::path> ScenarioFiles() {
  std::vector<std::filesystem::path> out;
  for (const auto& e : std::filesystem::directory_iterator("consensus/testdata")) {
    if (e.path().extension() == ".txt") out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

TEST(ScenarioTest, GoldenFiles) {
  const char* rewrite = std::getenv("CREMA_REWRITE_GOLDEN");
  const char* workspace = std::getenv("BUILD_WORKSPACE_DIRECTORY");
  const std::vector<std::filesystem::path> files = ScenarioFiles();
  ASSERT_GE(files.size(), 16u) << "scenario files missing from runfiles";
  for (const std::filesystem::path& file : files) {
    SCOPED_TRACE(file.string());
    const std::string script = ReadFile(file);
    const std::string got = RunScenario(script);
    if (rewrite != nullptr && std::string(rewrite) == "1" && workspace != nullptr) {
      std::ofstream(std::filesystem::path(workspace) / file) << got;
      continue;
    }
    EXPECT_EQ(got, script) << "scenario output differs; rerun with CREMA_REWRITE_GOLDEN=1 "
                              "bazel run //consensus:scenario_test and review the diff";
    EXPECT_EQ(got.find("INVARIANT VIOLATED"), std::string::npos);
  }
}

}  // namespace
}  // namespace crema::raft::testing
