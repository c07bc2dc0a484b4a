// Fuzz target: the simulator's command-line values (ratio.h ParseRatio, fault_config.h
// ParseFaultLevel), as typed by a user or a sweep script.
// Oracles: no crash or sanitizer report; a parsed ratio is well formed (0 < D, N <= D) and
// round-trips through ToString.
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "sim/fault_config.h"
#include "sim/ratio.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace crema::sim;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)ParseFaultLevel(text);
  std::optional<Ratio> ratio = ParseRatio(text);
  if (!ratio) return 0;
  if (ratio->denominator == 0 || ratio->numerator > ratio->denominator) {
    std::fprintf(stderr, "parsed a malformed ratio\n");
    std::abort();
  }
  std::optional<Ratio> again = ParseRatio(ratio->ToString());
  if (!again || !(*again == *ratio)) {
    std::fprintf(stderr, "a ratio does not survive ToString\n");
    std::abort();
  }
  return 0;
}
