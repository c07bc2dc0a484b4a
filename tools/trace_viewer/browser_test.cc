// The run viewer's page in a real browser: Debian's headless chromium loads a page rendered from a
// real run, with no JavaScript error, and draws every lane (the page reads its own canvas back and
// reports painted pixels per lane in <body data-lane-pixels>). A page with a planted error is
// caught the same way. Needs chromium (tools/install_deps.sh installs it).
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <regex>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "sim/test_seed.h"
#include "tools/seed_farm/child_process.h"

namespace crema {
namespace {

constexpr char kChromium[] = "/usr/bin/chromium";

std::string Runfile(const std::string& path) {
  const char* dir = std::getenv("TEST_SRCDIR");
  return absl::StrCat(dir ? dir : ".", "/crema/", path);
}

std::string Tmp(const std::string& name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  return absl::StrCat(dir ? dir : "/tmp", "/", name);
}

void RunTool(const std::vector<std::string>& argv) {
  absl::StatusOr<farm::ChildProcess::Completed> done =
      farm::ChildProcess::RunToCompletion(argv, absl::Minutes(2));
  ASSERT_TRUE(done.ok()) << done.status();
  ASSERT_TRUE(done->exit.exited && done->exit.code <= 1) << argv[0] << ": " << done->stderr_tail;
}

// The DOM after load, as headless chromium dumps it (flags: no network, no sandbox as root).
std::string DumpDom(const std::string& html) {
  setenv("HOME", Tmp("").c_str(), 1);
  absl::StatusOr<farm::ChildProcess::Completed> done = farm::ChildProcess::RunToCompletion(
      {kChromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
       "--disable-background-networking", "--disable-component-update", "--disable-sync",
       "--disable-dev-shm-usage", absl::StrCat("--user-data-dir=", Tmp("chromium-profile")),
       "--window-size=1400,900", "--virtual-time-budget=5000", "--dump-dom",
       absl::StrCat("file://", html)},
      absl::Minutes(2));
  EXPECT_TRUE(done.ok()) << done.status();
  if (!done.ok()) return "";
  std::string dom;
  for (const std::string& line : done->stdout_lines) absl::StrAppend(&dom, line, "\n");
  return dom;
}

std::string Attribute(const std::string& dom, const std::string& name) {
  const std::regex re("<body[^>]*\\b" + name + "=\"([^\"]*)\"");
  std::smatch m;
  return std::regex_search(dom, m, re) ? m[1].str() : "";
}

class BrowserTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (access(kChromium, X_OK) != 0) {
      GTEST_FAIL() << kChromium << " is missing: run tools/install_deps.sh (it installs chromium)";
    }
  }
};

TEST_F(BrowserTest, PageLoadsWithoutErrorsAndDrawsEveryLane) {
  const uint64_t seed = sim::TestSeed();
  const std::string trace = Tmp("run.jsonl"), html = Tmp("run.html");
  RunTool({Runfile("tools/sim"), "--quiet", "--scenario=raft-kv", absl::StrCat("--seed=", seed),
       "--trace_out=" + trace});
  RunTool({Runfile("tools/trace_view"), "--trace=" + trace, "--out=" + html});
  const std::string dom = DumpDom(html);
  ASSERT_EQ(Attribute(dom, "data-error"), "") << sim::ReproCommand(seed);
  ASSERT_EQ(Attribute(dom, "data-status"), "drawn") << dom.substr(0, 2000);
  const int lanes = std::stoi(Attribute(dom, "data-lanes"));
  EXPECT_GE(lanes, 3 + 4) << "3+ servers and 4 clients";
  const std::vector<std::string> pixels = absl::StrSplit(Attribute(dom, "data-lane-pixels"), ' ');
  ASSERT_EQ(pixels.size(), static_cast<size_t>(lanes));
  for (const std::string& lane : pixels) {
    const std::vector<std::string> parts = absl::StrSplit(lane, ':');
    ASSERT_EQ(parts.size(), 2u) << lane;
    EXPECT_GT(std::stoi(parts[1]), 500) << "lane " << parts[0] << " looks empty; " << sim::ReproCommand(seed);
  }
  EXPECT_GT(std::stoi(Attribute(dom, "data-arrows")), 100);
}

TEST_F(BrowserTest, APlantedScriptErrorIsCaught) {
  // The check above must be able to fail: break the page's model and look again.
  const std::string trace = Tmp("small.jsonl"), html = Tmp("small.html"), bad = Tmp("bad.html");
  RunTool({Runfile("tools/sim"), "--quiet", "--scenario=ping", "--seed=1", "--trace_out=" + trace});
  RunTool({Runfile("tools/trace_view"), "--trace=" + trace, "--out=" + html});
  std::ifstream in(html);
  std::string page((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t model = page.find("type=\"application/json\">");
  ASSERT_NE(model, std::string::npos);
  page.insert(model + 24, "{not json");
  std::ofstream(bad) << page;
  const std::string dom = DumpDom(bad);
  EXPECT_NE(Attribute(dom, "data-error"), "") << "a broken page must report its error";
  EXPECT_NE(Attribute(dom, "data-status"), "drawn");
}

}  // namespace
}  // namespace crema
