// Checks the trace reader and the LRU/ARC baselines against the reference table in
// ../shared/traces/README.md, on a small LIRS trace; and the trace parser on bad input.
#include <zlib.h>

#include <unistd.h>

#include <climits>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "cache/replay_policies.h"
#include "cache/trace_format.h"
#include "cache/trace_reader.h"
#include "gtest/gtest.h"

namespace crema::cache {
namespace {

// The real workspace root: the runfiles hold a symlink to this package's BUILD file.
std::string WorkspaceRoot() {
  const char* srcdir = std::getenv("TEST_SRCDIR");
  if (srcdir == nullptr) return "";
  const std::string link = std::string(srcdir) + "/crema/cache/BUILD";
  char resolved[PATH_MAX];
  if (::realpath(link.c_str(), resolved) == nullptr) return "";
  std::string path(resolved);
  return path.substr(0, path.size() - std::string("/cache/BUILD").size());
}

std::string TracesDir() { return WorkspaceRoot() + "/../shared/traces"; }

// Reads a gzip-compressed LIRS trace into keys; an error message on failure.
std::string ReadLirsTrace(const std::string& path, std::vector<uint64_t>& keys) {
  gzFile file = gzopen(path.c_str(), "rb");
  if (file == nullptr) return "cannot open " + path;
  char line[256];
  std::string error;
  while (error.empty() && gzgets(file, line, sizeof(line)) != nullptr) {
    std::string_view text(line);
    if (!text.empty() && text.back() == '\n') text.remove_suffix(1);
    absl::Status status =
        ParseTraceLine(TraceFormat::kLirs, text, [&](uint64_t key) { keys.push_back(key); });
    if (!status.ok()) error = std::string(status.message());
  }
  gzclose(file);
  return error;
}

double HitRatio(std::string_view policy_name, int64_t size, const std::vector<uint64_t>& keys) {
  auto policy = MakeReplayPolicy(policy_name, size);
  EXPECT_TRUE(policy.ok());
  ReplayResult result;
  for (uint64_t key : keys) {
    ++result.requests;
    if ((*policy)->Access(key)) ++result.hits;
  }
  return result.hit_ratio_percent();
}

TEST(TraceReplayTest, LruAndArcMatchTheReferenceTableOnMulti2) {
  const std::string path = TracesDir() + "/lirs-multi2.trace.gz";
  if (::access(path.c_str(), R_OK) != 0) {
    GTEST_SKIP() << "trace not found at " << path << " (is ../shared/traces beside the workspace?)";
  }
  std::vector<uint64_t> keys;
  ASSERT_EQ(ReadLirsTrace(path, keys), "");
  ASSERT_EQ(keys.size(), 26'311u);  // Request count from the README.
  struct Row {
    int64_t size;
    double lru;
    double arc;
  };
  for (const Row& row : {Row{100, 6.73, 25.89}, Row{500, 35.98, 39.49}, Row{1000, 47.80, 50.75}}) {
    EXPECT_NEAR(HitRatio("lru", row.size, keys), row.lru, 0.005) << "size " << row.size;
    EXPECT_NEAR(HitRatio("arc", row.size, keys), row.arc, 0.005) << "size " << row.size;
  }
}

// The one-pass stack-distance LRU equals a replay of the LRU policy at every size (a random trace
// with reuse at all distances, and the real multi2 trace when present).
TEST(TraceReplayTest, LruHitsBySizeEqualsReplayingLru) {
  std::vector<uint64_t> keys;
  uint64_t x = 12345;
  for (int i = 0; i < 20'000; ++i) {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    // Mostly a small hot range, sometimes a wide one: depths from 1 to thousands.
    keys.push_back((x >> 60) < 12 ? (x >> 33) % 300 : (x >> 33) % 5'000);
  }
  const std::vector<int64_t> sizes = {1, 2, 10, 100, 299, 300, 1'000, 4'999, 10'000};
  const std::vector<int64_t> hits = LruHitsBySize(keys, sizes);
  ASSERT_EQ(hits.size(), sizes.size());
  for (size_t i = 0; i < sizes.size(); ++i) {
    auto lru = MakeReplayPolicy("lru", sizes[i]);
    int64_t replayed = 0;
    for (uint64_t key : keys) replayed += (*lru)->Access(key) ? 1 : 0;
    EXPECT_EQ(hits[i], replayed) << "size " << sizes[i];
  }
  EXPECT_EQ(LruHitsBySize(keys, {0})[0], 0);
}

TEST(TraceReaderTest, ReadsPlainTracesAndNamesTheBadLine) {
  const char* tmp = std::getenv("TEST_TMPDIR");
  ASSERT_NE(tmp, nullptr);
  const std::string good = std::string(tmp) + "/good.trace";
  const std::string bad = std::string(tmp) + "/bad.lis";
  const std::string empty = std::string(tmp) + "/empty.trace";
  std::FILE* f = std::fopen(good.c_str(), "w");
  std::fputs("1\n*\n2\n", f);
  std::fclose(f);
  f = std::fopen(bad.c_str(), "w");
  std::fputs("10 2 0 1\nnot a line\n", f);
  std::fclose(f);
  f = std::fopen(empty.c_str(), "w");
  std::fclose(f);
  auto keys = ReadTraceFile(good);
  ASSERT_TRUE(keys.ok()) << keys.status();
  EXPECT_EQ(*keys, (std::vector<uint64_t>{1, 2}));
  auto error = ReadTraceFile(bad);
  ASSERT_FALSE(error.ok());
  EXPECT_NE(error.status().message().find("bad.lis:2"), std::string::npos) << error.status();
  EXPECT_FALSE(ReadTraceFile(empty).ok());
  EXPECT_FALSE(ReadTraceFile(std::string(tmp) + "/missing.trace.gz").ok());
  EXPECT_FALSE(ReadTraceFile(std::string(tmp) + "/unknown.csv").ok());
}

TEST(TraceFormatTest, ParsesBothFormatsAndRejectsBadLines) {
  std::vector<uint64_t> keys;
  auto emit = [&](uint64_t k) { keys.push_back(k); };
  ASSERT_TRUE(ParseTraceLine(TraceFormat::kArcLis, "10 3 0 1", emit).ok());
  ASSERT_TRUE(ParseTraceLine(TraceFormat::kLirs, "*", emit).ok());
  ASSERT_TRUE(ParseTraceLine(TraceFormat::kLirs, " 42\r", emit).ok());
  ASSERT_TRUE(ParseTraceLine(TraceFormat::kLirs, "", emit).ok());
  EXPECT_EQ(keys, (std::vector<uint64_t>{10, 11, 12, 42}));
  EXPECT_FALSE(ParseTraceLine(TraceFormat::kLirs, "x1", emit).ok());
  EXPECT_FALSE(ParseTraceLine(TraceFormat::kArcLis, "10", emit).ok());
  EXPECT_FALSE(ParseTraceLine(TraceFormat::kArcLis, "10 -1 0 0", emit).ok());
  EXPECT_FALSE(ParseTraceLine(TraceFormat::kArcLis, "10 99999999999 0 0", emit).ok());
  EXPECT_EQ(keys.size(), 4u);
  EXPECT_EQ(*TraceFormatFromPath("a/OLTP.lis.zst"), TraceFormat::kArcLis);
  EXPECT_EQ(*TraceFormatFromPath("lirs-ps.trace.gz"), TraceFormat::kLirs);
  EXPECT_FALSE(TraceFormatFromPath("trace.csv").ok());
  EXPECT_FALSE(MakeReplayPolicy("fifo", 10).ok());
}

}  // namespace
}  // namespace crema::cache
