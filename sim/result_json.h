// One simulation run's result as one JSON line — what `//tools:sim --json` prints per seed and
// what //tools:farm reads back from its child processes.
//
//   {"scenario":"ping","seed":42,"pass":false,"signature":"counter | acknowledged add lost | final",
//    "oracle":"counter","property":"acknowledged add lost","where":"final","message":"LOST ...",
//    "events":10139,"virtual_ms":22356,"trace_hash":"82d46ffb7264a4d4","schedule_size":31,
//    "coverage":{"fault.crash":3,"effect.crash":1,"sometimes.add_acked_during_partition":0,...}}
//
// Thread safety: pure functions.
#ifndef CREMA_SIM_RESULT_JSON_H_
#define CREMA_SIM_RESULT_JSON_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "sim/coverage.h"
#include "sim/scenario.h"

namespace crema::sim {

// A parsed result line (what the farm keeps per seed).
struct RunRecord {
  std::string scenario;
  uint64_t seed = 0;
  bool pass = false;
  std::string signature;  // FailureSignature; "" when passed
  std::string oracle, property, where, message;
  uint64_t events = 0;
  int64_t virtual_ms = 0;
  std::string trace_hash;
  uint64_t schedule_size = 0;
  Coverage coverage;
};

// One line, no newline. Invalid UTF-8 in messages is replaced, never thrown on.
std::string ResultJsonLine(std::string_view scenario, uint64_t seed, const ScenarioResult& result);
// INVALID_ARGUMENT if `line` is not such a line.
absl::StatusOr<RunRecord> ParseResultJsonLine(std::string_view line);

}  // namespace crema::sim

#endif  // CREMA_SIM_RESULT_JSON_H_
