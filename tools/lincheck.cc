// lincheck: checks a JSON-lines client history (chaos/history_json.h) for linearizability.
//
//   bazel run //tools:lincheck -- --history=FILE [--max_steps=N] [--max_cache_mb=M]
//       [--whole_history] [--local_reads]
//
// Prints one verdict line on stdout, e.g.
//   linearizable=true ops=10000 checked=9801 keys=100 steps=10035 cache=127 elapsed_ms=9
// and, when the history is not linearizable, an explanation on stderr (the failing key, the
// longest linearizable prefix, the operation that could not be linearized next).
// --local_reads instead checks the relaxed "stale but never invented" property for reads served
// locally (chaos/invented_reads.h):  no_invented_reads=true reads=N invented=0 elapsed_ms=...
//
// Exit status: 0 linearizable (or no invented reads), 1 not linearizable (or invented reads
// found), 2 unknown (the search budget ran out), 3 bad usage or a malformed history.
// A relative --history is resolved against the workspace root under `bazel run`.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "chaos/history.h"
#include "chaos/history_json.h"
#include "chaos/invented_reads.h"
#include "chaos/linearizability.h"

ABSL_FLAG(std::string, history, "", "JSON-lines history file ('-' for stdin)");
ABSL_FLAG(uint64_t, max_steps, 50'000'000, "Search budget: total model steps");
ABSL_FLAG(uint64_t, max_cache_mb, 512, "Search budget: memoized configurations per key, MiB");
ABSL_FLAG(bool, whole_history, false, "Check all keys as one object (slow; for cross-checks)");
ABSL_FLAG(bool, local_reads, false, "Check only that reads are never invented (stale is fine)");

namespace crema::tools {
namespace {

constexpr int kExitLinearizable = 0;
constexpr int kExitViolation = 1;
constexpr int kExitUnknown = 2;
constexpr int kExitBadInput = 3;

std::string ResolvePath(const std::string& path) {
  if (path.empty() || path[0] == '/' || path == "-") return path;
  const char* workspace = std::getenv("BUILD_WORKSPACE_DIRECTORY");
  if (workspace == nullptr || *workspace == '\0') return path;
  return absl::StrCat(workspace, "/", path);
}

absl::StatusOr<chaos::History> ReadHistory(const std::string& path) {
  std::ifstream file;
  std::istream* in = &std::cin;
  if (path != "-") {
    file.open(path);
    if (!file) return absl::NotFoundError(absl::StrCat("cannot open ", path));
    in = &file;
  }
  chaos::JsonLinesHistoryParser parser;
  std::string line;
  while (std::getline(*in, line)) {
    if (absl::Status s = parser.AddLine(line); !s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(path, ": ", s.message()));
    }
  }
  if (in->bad()) return absl::DataLossError(absl::StrCat("error reading ", path));
  return std::move(parser).Finish();
}

int Run() {
  const std::string path = ResolvePath(absl::GetFlag(FLAGS_history));
  if (path.empty()) {
    std::fprintf(stderr, "usage: lincheck --history=FILE (see tools/lincheck.cc)\n");
    return kExitBadInput;
  }
  const auto start = std::chrono::steady_clock::now();
  absl::StatusOr<chaos::History> history = ReadHistory(path);
  if (!history.ok()) {
    std::fprintf(stderr, "lincheck: %s\n", std::string(history.status().message()).c_str());
    return kExitBadInput;
  }
  auto elapsed_ms = [&] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::steady_clock::now() - start)
        .count();
  };
  if (absl::GetFlag(FLAGS_local_reads)) {
    absl::StatusOr<chaos::InventedReadsResult> r = chaos::CheckNoInventedReads(*history);
    if (!r.ok()) {
      std::fprintf(stderr, "lincheck: %s\n", std::string(r.status().message()).c_str());
      return kExitBadInput;
    }
    std::printf("%s elapsed_ms=%lld\n", chaos::InventedReadsSummary(*r).c_str(),
                static_cast<long long>(elapsed_ms()));
    for (size_t index : r->invented_reads) {
      std::fprintf(stderr, "invented read: %s\n",
                   chaos::FormatOperation((*history)[index], index).c_str());
    }
    return r->ok() ? kExitLinearizable : kExitViolation;
  }
  const chaos::LinearizabilityOptions options{
      .partition_by_key = !absl::GetFlag(FLAGS_whole_history),
      .max_steps = absl::GetFlag(FLAGS_max_steps),
      .max_cache_bytes = static_cast<size_t>(absl::GetFlag(FLAGS_max_cache_mb)) << 20};
  absl::StatusOr<chaos::LinearizabilityResult> result =
      chaos::CheckLinearizability(*history, options);
  if (!result.ok()) {
    std::fprintf(stderr, "lincheck: %s\n", std::string(result.status().message()).c_str());
    return kExitBadInput;
  }
  std::printf("%s elapsed_ms=%lld\n", chaos::LinearizabilitySummary(*result).c_str(),
              static_cast<long long>(elapsed_ms()));
  std::fflush(stdout);
  switch (result->verdict) {
    case chaos::Verdict::kLinearizable:
      return kExitLinearizable;
    case chaos::Verdict::kNotLinearizable:
      std::fprintf(stderr, "%s", chaos::ExplainViolation(*history, *result).c_str());
      return kExitViolation;
    case chaos::Verdict::kUnknown:
      return kExitUnknown;
  }
  return kExitUnknown;
}

}  // namespace
}  // namespace crema::tools

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return crema::tools::Run();
}
