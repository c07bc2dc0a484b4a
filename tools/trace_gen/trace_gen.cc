// trace_gen: writes a synthetic cache trace (tools/trace_gen/synthetic_traces.h) in the LIRS format
// (one integer key per line), which //tools:cache_trace and the hit-ratio benchmark read.
//
//   bazel run //tools/trace_gen -- --shape=pairs --length=500000 --seed=1 --out=/tmp/pairs.trace
//
// With no --out the trace goes to stdout. --list prints the shape names.
#include <cstdio>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_join.h"
#include "tools/trace_gen/synthetic_traces.h"

ABSL_FLAG(std::string, shape, "", "Shape to generate (--list for names)");
ABSL_FLAG(int64_t, length, 1'000'000, "Requests");
ABSL_FLAG(uint64_t, seed, 1, "Seed");
ABSL_FLAG(std::string, out, "", "Output file (default: stdout)");
ABSL_FLAG(bool, list, false, "Print the shape names and exit");

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  if (absl::GetFlag(FLAGS_list)) {
    std::printf("%s\n", absl::StrJoin(crema::tools::SyntheticShapeNames(), "\n").c_str());
    return 0;
  }
  const auto keys = crema::tools::GenerateSyntheticTrace(
      absl::GetFlag(FLAGS_shape), absl::GetFlag(FLAGS_length), absl::GetFlag(FLAGS_seed));
  if (!keys.ok()) {
    std::fprintf(stderr, "trace_gen: %s\n", keys.status().ToString().c_str());
    return 2;
  }
  const std::string path = absl::GetFlag(FLAGS_out);
  std::FILE* out = path.empty() ? stdout : std::fopen(path.c_str(), "w");
  if (out == nullptr) {
    std::fprintf(stderr, "trace_gen: cannot open %s for writing\n", path.c_str());
    return 1;
  }
  for (uint64_t key : *keys) std::fprintf(out, "%llu\n", static_cast<unsigned long long>(key));
  const bool ok = std::fflush(out) == 0 && (out == stdout || std::fclose(out) == 0);
  if (!ok) {
    std::fprintf(stderr, "trace_gen: writing %s failed\n", path.empty() ? "stdout" : path.c_str());
    return 1;
  }
  return 0;
}
