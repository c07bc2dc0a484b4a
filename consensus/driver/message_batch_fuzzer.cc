// Fuzz target: Raft message envelopes (message_batch.h), the unit a peer sends on Service::kRaft.
//
// Modes (first byte):
//   0  raw: the input is the envelope.
//   1  structured: the input lists messages (raw bytes each); the harness lays out a well-framed
//      envelope (magic, count, length prefixes). Now and then it adds a message whose size
//      straddles kMaxBatchBytes, or repeats one to a count around kMaxBatchMessages, so the
//      decoder's bounds are reached at their edges from a few input bytes.
// Oracles: no crash or sanitizer report; decoding memory proportional to the envelope
// (MemoryBudget); an accepted envelope is within kMaxBatchBytes and kMaxBatchMessages (the bound
// DecodeBatch once failed to enforce); its messages re-batched decode to the same messages.
#include <algorithm>
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

// FNV-1a of the whole input: decides, out of the fuzzer's reach, which inputs may be expensive.
uint64_t InputHash(std::string_view input) {
  uint64_t h = 0xcbf29ce484222325;
  for (char c : input) h = (h ^ static_cast<uint8_t>(c)) * 0x100000001b3;
  return h;
}

std::string Structured(fuzz::FuzzInput& in, bool expensive) {
  // Expensive inputs (about one in 4096, chosen by a hash of the input, so the fuzzer cannot
  // learn to make them all expensive as it would a compared constant) add a message that takes
  // the envelope just past kMaxBatchBytes, or repeat the first message to a count around
  // kMaxBatchMessages: the bounds get probed at their edges while the other inputs stay small.
  // A 4 MiB envelope costs about a second under ASan on these virtual machines (page faults);
  // the unit tests cover the accepting side of the byte bound.
  const uint8_t shape = expensive ? 1 + in.U8() % 2 : 0;
  const size_t over_by = in.InRange(1, 4096);
  const size_t many = in.InRange(kMaxBatchMessages - 2, kMaxBatchMessages + 1);
  std::vector<std::string> messages;
  for (int i = 0; i < 32 && !in.empty(); ++i) messages.push_back(in.Bytes(256));
  if (shape == 2 && !messages.empty()) messages.resize(many, messages.front());
  size_t total = kBatchHeaderBytes;
  for (const std::string& m : messages) total += kBatchPerMessageOverhead + m.size();
  if (shape == 1) {
    // A well-formed MsgApp sized so the whole envelope is kMaxBatchBytes + over_by bytes.
    Message app{.type = MessageType::kApp, .group = 1, .from = 1, .to = 2, .term = 1};
    app.entries.push_back(Entry{1, 1, EntryType::kNormal, ""});
    const size_t empty_bytes = EncodeMessage(app).size() + kBatchPerMessageOverhead;
    const size_t want = kMaxBatchBytes + over_by - std::min(total, kMaxBatchBytes);
    // The entry's length varint grows by 2 bytes (0 -> 3-byte varint for ~4 MiB).
    app.entries[0].data.assign(want > empty_bytes + 2 ? want - empty_bytes - 2 : 0, 'e');
    messages.push_back(EncodeMessage(app));
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
  if (envelope.size() > (64 << 10)) return;  // re-batching big ones costs more than it finds
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
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const bool expensive = crema::raft::InputHash(input) % 4096 == 0;
  crema::fuzz::FuzzInput in(data, size);
  if (in.U8() % 2 == 0) {
    crema::raft::Check(in.Rest());
  } else {
    crema::raft::Check(crema::raft::Structured(in, expensive));
  }
  return 0;
}
