// Fuzz target: snapshot files (snapshot_store.h), the bytes a follower receives from a peer and
// reads back from disk.
//
// The whole-file XXH3 checksum would stop plain byte mutation at the first check, so the first
// input byte picks a mode:
//   0  raw: the input is the file (checksum and all).
//   1  sealed: the input is the body; the harness appends a valid checksum, so the parser, the
//      declared sizes and LZ4 see arbitrary bytes (what a peer that knows the format can send).
//   2  structured: meta fields, a declared raw size and LZ4 bytes are read from the input and
//      laid out correctly, then sealed: reaches the decompressor with plausible headers.
//   3  streamed: a SnapshotReceiver on an in-memory disk takes fuzz-chosen chunks and offsets,
//      then Finish verifies and installs (or refuses) the file.
// Oracles: no crash or sanitizer report; memory stays within a budget proportional to the input
// (LZ4 expands at most 255-fold; the 68-byte file that allocated 512 MiB is the regression);
// anything decoded re-encodes to a file that decodes to the same snapshot.
#include <xxhash.h>

#include <cassert>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "consensus/storage/encoding.h"
#include "consensus/storage/snapshot_store.h"
#include "sim/sim_disk.h"
#include "tools/fuzz/fuzz_input.h"
#include "tools/fuzz/memory_budget.h"

namespace crema::raft::storage {
namespace {

std::string Seal(std::string body) {
  PutU64(&body, XXH3_64bits(body.data(), body.size()));
  return body;
}

void CheckDecoded(std::string_view file) {
  (void)DecodeSnapshotMeta(file);
  absl::StatusOr<Snapshot> decoded = DecodeSnapshotFile(file);
  if (!decoded.ok()) return;
  absl::StatusOr<Snapshot> again = DecodeSnapshotFile(EncodeSnapshotFile(decoded->meta,
                                                                         decoded->data));
  if (!again.ok() || again->meta != decoded->meta || again->data != decoded->data) {
    std::fprintf(stderr, "a decoded snapshot does not survive re-encoding\n");
    std::abort();
  }
}

std::string Structured(fuzz::FuzzInput& in) {
  std::string body;
  PutU64(&body, 0x504e53414d455243);  // "CREMASNP"
  PutU32(&body, in.InRange(0, 3) == 0 ? in.U32() : 1);
  PutU64(&body, in.U64());
  PutU64(&body, in.U64());
  for (int list = 0; list < 3; ++list) {
    const uint32_t count = in.InRange(0, 5) == 0 ? in.U32() : in.InRange(0, 8);
    PutU32(&body, count);
    for (uint32_t i = 0; i < count && !in.empty(); ++i) PutU32(&body, in.U32());
  }
  // The declared raw size: anything, or a multiple (0..255, LZ4's largest expansion) of the data.
  const uint8_t expansion = in.U8();
  const uint64_t any = in.U64();
  const std::string lz4(in.Rest());
  const uint64_t raw = expansion == 0 ? any : expansion * uint64_t{lz4.size()};
  PutU64(&body, raw);
  PutU64(&body, lz4.size());
  body += lz4;
  return Seal(std::move(body));
}

void Streamed(fuzz::FuzzInput& in) {
  sim::DiskFaultConfig config;
  sim::SimDisk disk(Random(1), config);
  SnapshotStore store(&disk, "s/");
  if (!store.Open().ok()) std::abort();
  absl::StatusOr<std::unique_ptr<SnapshotReceiver>> receiver = store.StartReceive();
  if (!receiver.ok()) std::abort();
  const bool seal = in.Bool();
  std::string file;
  while (in.remaining() > 1) {
    const uint64_t offset = in.InRange(0, 7) == 0 ? in.U64() : (*receiver)->received_bytes();
    std::string chunk = in.Bytes(512);
    file += chunk;
    (void)(*receiver)->Write(offset, chunk);
  }
  if (seal) (void)(*receiver)->Write((*receiver)->received_bytes(), Seal(file).substr(file.size()));
  absl::StatusOr<SnapshotMeta> meta = (*receiver)->Finish();
  if (meta.ok() && (!store.latest().has_value() || *store.latest() != *meta)) std::abort();
}

}  // namespace
}  // namespace crema::raft::storage

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace crema::raft::storage;
  crema::fuzz::MemoryBudget budget(size, /*per_input_byte=*/1024, /*fixed_bytes=*/4 << 20);
  crema::fuzz::FuzzInput in(data, size);
  switch (in.U8() % 4) {
    case 0:
      CheckDecoded(in.Rest());
      break;
    case 1:
      CheckDecoded(Seal(std::string(in.Rest())));
      break;
    case 2:
      CheckDecoded(Structured(in));
      break;
    default:
      Streamed(in);
      break;
  }
  return 0;
}
