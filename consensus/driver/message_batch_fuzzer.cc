// Fuzz target: Raft message envelopes (message_batch.h), the unit a peer sends on Service::kRaft.
//
// Modes (first byte):
//   0  raw: the input is the envelope.
//   1  structured: the input lists messages (raw bytes each) and repeat counts; the harness lays
//      out a well-framed envelope (magic, count, length prefixes), possibly far bigger than the
//      input, so the decoder's count and byte bounds are reached (a 4 MiB envelope from a few
//      hundred input bytes).
// Oracles: no crash or sanitizer report; decoding memory proportional to the envelope
// (MemoryBudget); an accepted envelope is within kMaxBatchBytes and kMaxBatchMessages (the bound
// DecodeBatch once failed to enforce); its messages re-batched decode to the same messages.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "consensus/driver/message_batch.h"
#include "consensus/message_codec.h"
#include "tools/fuzz/fuzz_input.h"
#include "tools/fuzz/memory_budget.h"

namespace crema::raft {
namespace {

[[noreturn]] void Fail(const char* what) {
  std::fprintf(stderr, "message_batch_fuzzer: %s\n", what);
  std::abort();
}

void PutU32(std::string* out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

std::string Structured(fuzz::FuzzInput& in) {
  std::vector<std::string> messages;
  size_t total = 0;  // stop a little past every bound: the harness's own memory stays small
  auto room = [&] { return messages.size() < kMaxBatchMessages + 2 && total < 2 * kMaxBatchBytes; };
  while (!in.empty() && room()) {
    std::string m = in.Bytes(256);
    if (m.empty() || in.InRange(0, 3) == 0) {
      // A big message: an entry of up to 8 MiB, as a MsgApp would carry it.
      Message app{.type = MessageType::kApp, .group = 1, .from = 1, .to = 2, .term = 1};
      app.entries.push_back(Entry{1, 1, EntryType::kNormal, std::string(in.InRange(0, 5 << 20),
                                                                        'e')});
      m = EncodeMessage(app);
    }
    const size_t repeat = in.InRange(0, 3) == 0 ? in.InRange(1, kMaxBatchMessages) : 1;
    for (size_t r = 0; r < repeat && room(); ++r) {
      messages.push_back(m);
      total += 4 + m.size();
    }
  }
  std::string out(1, static_cast<char>(kBatchMagic));
  PutU32(&out, static_cast<uint32_t>(messages.size()));
  for (const std::string& m : messages) {
    PutU32(&out, static_cast<uint32_t>(m.size()));
    out += m;
  }
  return out;
}

void Check(std::string_view envelope) {
  absl::StatusOr<std::vector<Message>> batch;
  {
    fuzz::MemoryBudget budget(envelope.size(), /*per_input_byte=*/64, /*fixed_bytes=*/1 << 20);
    batch = DecodeBatch(envelope);
  }
  if (!batch.ok()) return;
  if (envelope.size() > kMaxBatchBytes) Fail("accepted an envelope over kMaxBatchBytes");
  if (batch->empty() || batch->size() > kMaxBatchMessages) Fail("accepted a bad message count");
  BatchBuilder builder;
  for (const Message& m : *batch) {
    std::string encoded = EncodeMessage(m);
    if (encoded.size() > kMaxEnvelopedMessageBytes) Fail("decoded a message no envelope holds");
    if (builder.WouldOverflow(encoded.size())) return;  // re-encoding may differ in size
    builder.Add(std::move(encoded));
  }
  absl::StatusOr<std::vector<Message>> again = DecodeBatch(builder.Take());
  if (!again.ok() || *again != *batch) Fail("a decoded batch does not survive re-batching");
}

}  // namespace
}  // namespace crema::raft

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  crema::fuzz::FuzzInput in(data, size);
  if (in.U8() % 2 == 0) {
    crema::raft::Check(in.Rest());
  } else {
    crema::raft::Check(crema::raft::Structured(in));
  }
  return 0;
}
