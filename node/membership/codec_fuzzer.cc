// Fuzz target: SWIM membership datagrams (codec.h), which arrive from any node that can reach us.
// Oracles: no crash or sanitizer report; memory proportional to the input (MemoryBudget); a
// decoded message is encodable (every update IsEncodable, the whole within
// kMaxMembershipMessageBytes) and re-encodes to bytes that decode to the same message.
#include <cstdio>
#include <cstdlib>

#include "node/membership/codec.h"
#include "tools/fuzz/memory_budget.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace crema::membership;
  crema::fuzz::MemoryBudget budget(size, /*per_input_byte=*/64, /*fixed_bytes=*/1 << 20);
  absl::StatusOr<Message> m = DecodeMessage(std::string_view(reinterpret_cast<const char*>(data),
                                                             size));
  if (!m.ok()) return 0;
  size_t bytes = kMessageHeaderBytes;
  for (const MemberUpdate& u : m->updates) {
    if (!IsEncodable(u)) {
      std::fprintf(stderr, "decoded an update that cannot be encoded\n");
      std::abort();
    }
    bytes += EncodedUpdateBytes(u);
  }
  if (bytes > kMaxMembershipMessageBytes) {
    std::fprintf(stderr, "decoded a message over kMaxMembershipMessageBytes\n");
    std::abort();
  }
  absl::StatusOr<Message> again = DecodeMessage(EncodeMessage(*m));
  if (!again.ok() || *again != *m) {
    std::fprintf(stderr, "a decoded membership message does not survive re-encoding\n");
    std::abort();
  }
  return 0;
}
