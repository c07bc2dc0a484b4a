// Fuzz target: cache trace lines (trace_format.h), read by //tools:cache_trace and the hit-ratio
// benchmark from trace files. Input: a selector byte (format), then one line.
// Oracles: no crash or sanitizer report; memory proportional to the input (MemoryBudget); a line
// never emits more than kMaxBlocksPerTraceLine keys, and an error emits nothing past the error.
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "cache/trace_format.h"
#include "tools/fuzz/fuzz_input.h"
#include "tools/fuzz/memory_budget.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace crema::cache;
  crema::fuzz::MemoryBudget budget(size, /*per_input_byte=*/64, /*fixed_bytes=*/1 << 20);
  crema::fuzz::FuzzInput in(data, size);
  const TraceFormat format = in.U8() % 2 == 0 ? TraceFormat::kArcLis : TraceFormat::kLirs;
  int64_t emitted = 0;
  (void)ParseTraceLine(format, in.Rest(), [&emitted](uint64_t) { ++emitted; });
  if (emitted > kMaxBlocksPerTraceLine) {
    std::fprintf(stderr, "a trace line emitted %lld keys\n", static_cast<long long>(emitted));
    std::abort();
  }
  return 0;
}
