// Fuzz target: the peer wire format's incremental decoder (frame.h FrameReader), fed the bytes of
// a TCP stream in arbitrary pieces, as any host that can connect can send them.
//
// Modes (first byte):
//   0  raw: the rest of the input is the stream, cut into fuzz-chosen pieces, read with the
//      limit of an unauthenticated (handshake) or authenticated connection.
//   1  structured: well-formed frames (kind, service, from, payload, tag) are encoded with valid
//      checksums, concatenated and fed in pieces; optionally one byte is overwritten.
// Oracles: no crash or sanitizer report; memory proportional to the input (MemoryBudget); the
// reader never buffers more than one frame plus one piece; no frame over the limit comes out; a
// failed reader stays failed; with no corruption, exactly the encoded frames come out, in order.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "tools/fuzz/fuzz_input.h"
#include "tools/fuzz/memory_budget.h"
#include "transport/frame.h"

namespace crema::transport {
namespace {

[[noreturn]] void Fail(const char* what) {
  std::fprintf(stderr, "frame_fuzzer: %s\n", what);
  std::abort();
}

bool Same(const Frame& a, const Frame& b) {
  return a.kind == b.kind && a.service == b.service && a.from == b.from &&
         a.payload == b.payload && a.tag == b.tag;
}

// Feeds `stream` in pieces chosen by `in`; returns the frames, and whether the reader failed.
std::vector<Frame> Read(fuzz::FuzzInput& in, std::string_view stream, size_t limit, bool* failed) {
  FrameReader reader;
  reader.set_max_payload_bytes(limit);
  std::vector<Frame> out;
  size_t pos = 0;
  *failed = false;
  while (pos < stream.size() && !*failed) {
    const size_t piece = std::min<size_t>(stream.size() - pos, 1 + in.InRange(0, 4096));
    reader.Append(stream.substr(pos, piece));
    pos += piece;
    const size_t bound = kFrameHeaderBytes + limit + kDataFrameTagBytes + piece;
    if (reader.buffered_bytes() > bound) Fail("the reader buffers more than a frame and a piece");
    while (true) {
      absl::StatusOr<std::optional<Frame>> next = reader.Next();
      if (!next.ok()) {
        *failed = true;
        if (reader.Next().ok() || !reader.failed()) Fail("a failed reader recovered");
        break;
      }
      if (!next->has_value()) break;
      const Frame& f = **next;
      const size_t frame_limit =
          f.kind == FrameKind::kData ? limit : std::min(limit, kMaxHandshakePayloadBytes);
      if (f.payload.size() > frame_limit) Fail("a frame over the limit came out");
      if (f.tag.size() != (f.kind == FrameKind::kData ? kDataFrameTagBytes : 0)) {
        Fail("a frame with a wrong-size tag came out");
      }
      out.push_back(**std::move(next));
    }
  }
  return out;
}

void Structured(fuzz::FuzzInput& in) {
  std::vector<Frame> sent;
  std::string stream;
  const int count = static_cast<int>(in.InRange(0, 16));
  for (int i = 0; i < count; ++i) {
    Frame f;
    f.kind = static_cast<FrameKind>(in.InRange(1, 4));
    f.service = in.U8();
    f.from = in.U32();
    f.payload = in.Bytes(f.kind == FrameKind::kData ? 2048 : kMaxHandshakePayloadBytes);
    std::string encoded = EncodeFrame(f.kind, f.service, f.from, f.payload);
    if (f.kind == FrameKind::kData) {
      f.tag = std::string(kDataFrameTagBytes, static_cast<char>(in.U8()));
      encoded += f.tag;
    }
    stream += encoded;
    sent.push_back(std::move(f));
  }
  const bool corrupt = in.InRange(0, 3) == 0 && !stream.empty();
  if (corrupt) stream[in.InRange(0, stream.size() - 1)] = static_cast<char>(in.U8());
  bool failed = false;
  const std::vector<Frame> got = Read(in, stream, kMaxFramePayloadBytes, &failed);
  if (corrupt) return;
  if (failed || got.size() != sent.size()) Fail("well-formed frames were not all decoded");
  for (size_t i = 0; i < got.size(); ++i) {
    if (!Same(got[i], sent[i])) Fail("a frame decoded differently from what was encoded");
  }
}

}  // namespace
}  // namespace crema::transport

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace crema::transport;
  crema::fuzz::MemoryBudget budget(size, /*per_input_byte=*/16, /*fixed_bytes=*/1 << 20);
  crema::fuzz::FuzzInput in(data, size);
  const uint8_t mode = in.U8();
  if (mode % 2 == 1) {
    Structured(in);
    return 0;
  }
  const size_t limit = (mode & 2) != 0 ? kMaxFramePayloadBytes : kMaxHandshakePayloadBytes;
  const std::string stream(in.Bytes(size));
  bool failed = false;
  (void)Read(in, stream, limit, &failed);
  return 0;
}
