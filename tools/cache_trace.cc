// cache_trace: replays a cache trace through a policy and prints its hit ratio.
//
//   bazel run //tools:cache_trace -- --trace=../shared/traces/OLTP.lis.zst --size=1000
//       --policy=wtinylfu     (one command line)
//
// Reads the formats of ../shared/traces (cache/trace_format.h), decompressing .zst with `zstd -dc`
// and .gz with `gzip -dc` through a pipe. A relative --trace is resolved against the workspace
// root when run by `bazel run` ($BUILD_WORKSPACE_DIRECTORY), else against the working directory.
// The last line of output is exactly:
//   policy=<p> size=<N> requests=<count> hit_ratio=<NN.NN>%
#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "cache/replay_policies.h"
#include "cache/trace_format.h"

ABSL_FLAG(std::string, trace, "", "Trace file (.lis.zst, .lis, .trace.gz, .trace)");
ABSL_FLAG(int64_t, size, 0, "Cache size in entries");
ABSL_FLAG(std::string, policy, "wtinylfu", "wtinylfu, lru or arc");

namespace crema::tools {
namespace {

std::string ResolvePath(const std::string& path) {
  if (path.empty() || path[0] == '/') return path;
  const char* workspace = std::getenv("BUILD_WORKSPACE_DIRECTORY");
  if (workspace == nullptr || *workspace == '\0') return path;
  return absl::StrCat(workspace, "/", path);
}

std::string ShellQuote(const std::string& s) {
  return absl::StrCat("'", absl::StrReplaceAll(s, {{"'", "'\\''"}}), "'");
}

std::string ReadCommand(const std::string& path) {
  if (absl::EndsWith(path, ".zst")) return absl::StrCat("zstd -dc -- ", ShellQuote(path));
  if (absl::EndsWith(path, ".gz")) return absl::StrCat("gzip -dc -- ", ShellQuote(path));
  return absl::StrCat("cat -- ", ShellQuote(path));
}

absl::Status Replay(const std::string& path, cache::ReplayPolicy& policy,
                    cache::ReplayResult& result) {
  absl::StatusOr<cache::TraceFormat> format = cache::TraceFormatFromPath(path);
  if (!format.ok()) return format.status();
  std::FILE* pipe = ::popen(ReadCommand(path).c_str(), "r");
  if (pipe == nullptr) return absl::InternalError(absl::StrCat("cannot run a reader for ", path));
  char* line = nullptr;
  size_t capacity = 0;
  ssize_t length;
  absl::Status status;
  int64_t line_number = 0;
  while (status.ok() && (length = ::getline(&line, &capacity, pipe)) >= 0) {
    ++line_number;
    status = cache::ParseTraceLine(*format, std::string_view(line, length), [&](uint64_t key) {
      ++result.requests;
      if (policy.Access(key)) ++result.hits;
    });
    if (!status.ok()) {
      status = absl::InvalidArgumentError(
          absl::StrCat(path, ":", line_number, ": ", status.message()));
    }
  }
  std::free(line);
  const int exit_code = ::pclose(pipe);
  if (status.ok() && exit_code != 0) {
    return absl::DataLossError(absl::StrCat("reading ", path, " failed (exit ", exit_code, ")"));
  }
  if (status.ok() && line_number == 0) {
    return absl::InvalidArgumentError(absl::StrCat(path, " is empty or unreadable"));
  }
  return status;
}

int Main() {
  const std::string path = ResolvePath(absl::GetFlag(FLAGS_trace));
  const int64_t size = absl::GetFlag(FLAGS_size);
  const std::string policy_name = absl::GetFlag(FLAGS_policy);
  if (path.empty() || size <= 0) {
    std::fprintf(stderr, "usage: cache_trace --trace=PATH --size=N --policy=wtinylfu|lru|arc\n");
    return 2;
  }
  absl::StatusOr<std::unique_ptr<cache::ReplayPolicy>> policy =
      cache::MakeReplayPolicy(policy_name, size);
  if (!policy.ok()) {
    std::fprintf(stderr, "%s\n", policy.status().ToString().c_str());
    return 2;
  }
  cache::ReplayResult result;
  if (absl::Status status = Replay(path, **policy, result); !status.ok()) {
    std::fprintf(stderr, "%s\n", status.ToString().c_str());
    return 1;
  }
  std::printf("policy=%s size=%lld requests=%lld hit_ratio=%.2f%%\n", policy_name.c_str(),
              static_cast<long long>(size), static_cast<long long>(result.requests),
              result.hit_ratio_percent());
  return 0;
}

}  // namespace
}  // namespace crema::tools

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return crema::tools::Main();
}
