// Restart from a checkpoint, and memory per cached key, for one shard replica with N keys
// (default 1,000,000 keys of 16 bytes with 32-byte values, a third with TTLs).
//
//   bazel build -c opt //cache/replicated:checkpoint_benchmark
//   bazel-bin/cache/replicated/checkpoint_benchmark --keys=1000000 --dir=/tmp
//
// Measures (wall clock, one thread):
//   * checkpoint: CacheStateMachine::Checkpoint (sorted, deterministic bytes), then the snapshot
//     file encoding the Raft driver writes (LZ4 + XXH3, consensus/storage/snapshot_store.h),
//     written and fsynced;
//   * restart: read the file, verify + decompress it, Restore a fresh state machine — what a
//     restarting replica does before replaying the log tail;
//   * memory: heap bytes (glibc mallinfo2) of the state machine with N keys, against a bare
//     LocalCache holding the same entries (same options), in the same run: the replicated state's
//     own overhead per key (sessions, deadlines, indexes beyond the local cache's).
//
// (A tool, not node code: it reads the real clock and writes a real file.)
#include <fcntl.h>
#include <malloc.h>
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "cache/local_cache.h"
#include "cache/replicated/cache_state_machine.h"
#include "consensus/storage/snapshot_store.h"
#include "node/clock.h"

ABSL_FLAG(int64_t, keys, 1'000'000, "keys in the shard");
ABSL_FLAG(std::string, dir, "/tmp", "where the checkpoint file is written");

namespace crema::replicated {
namespace {

size_t HeapBytes() { return mallinfo2().uordblks; }

std::string Key(int64_t i) {
  std::string k = absl::StrCat("key:", i);
  k.resize(16, '.');
  return k;
}

std::string Value(int64_t i) {
  std::string v = absl::StrCat("value-", i);
  v.resize(32, '#');
  return v;
}

int Run() {
  const int64_t n = absl::GetFlag(FLAGS_keys);
  const absl::Time t0 = absl::FromUnixSeconds(1'800'000'000);
  ShardConfig config;
  config.capacity = n * 2;
  // The local cache alone, as a baseline for memory.
  size_t baseline_bytes = 0;
  {
    ManualClock clock(t0);
    cache::CacheOptions options;
    options.max_weight = n * 2;
    options.eviction = cache::EvictionMode::kDeferred;
    const size_t before = HeapBytes();
    auto local = std::make_unique<cache::LocalCache>(clock, std::move(options));
    for (int64_t i = 0; i < n; ++i) {
      local->PutUntil(Key(i), Value(i),
                      i % 3 == 0 ? t0 + absl::Hours(1) : absl::InfiniteFuture());
    }
    baseline_bytes = HeapBytes() - before;
  }
  const size_t before = HeapBytes();
  auto sm = std::make_unique<CacheStateMachine>(config);
  raft::Index index = 0;
  const absl::Time build_start = absl::Now();
  for (int64_t i = 0; i < n; i += 1000) {
    Command c;
    c.kind = CommandKind::kMultiPut;
    c.session = 1 + (i / 1000) % 64;  // 64 origin sessions, as a busy cluster would have
    c.seq = 1 + i / 64'000;
    c.ack_floor = c.seq;
    c.issued_unix_ns = absl::ToUnixNanos(t0);
    c.stamp_unix_ns = absl::ToUnixNanos(t0);
    for (int64_t j = i; j < std::min(n, i + 1000); ++j) c.entries.emplace_back(Key(j), Value(j));
    (void)sm->ApplyWithResult(++index, EncodeCommand(c));
  }
  // A third of the keys get a TTL, as in the baseline.
  for (int64_t i = 0; i < n; i += 3) {
    Command c;
    c.kind = CommandKind::kExpire;
    c.session = 99;
    c.seq = 1 + i;
    c.ack_floor = c.seq;
    c.issued_unix_ns = absl::ToUnixNanos(t0);
    c.stamp_unix_ns = absl::ToUnixNanos(t0);
    c.key = Key(i);
    c.expiry = {ExpiryKind::kAfter, absl::ToInt64Nanoseconds(absl::Hours(1))};
    (void)sm->ApplyWithResult(++index, EncodeCommand(c));
  }
  const double build_s = absl::ToDoubleSeconds(absl::Now() - build_start);
  const size_t sm_bytes = HeapBytes() - before;

  absl::Time t = absl::Now();
  const std::string checkpoint = sm->Checkpoint();
  const double checkpoint_s = absl::ToDoubleSeconds(absl::Now() - t);
  t = absl::Now();
  raft::SnapshotMeta meta;
  meta.index = index;
  meta.term = 1;
  meta.conf.voters = {1, 2, 3};
  const std::string file = raft::storage::EncodeSnapshotFile(meta, checkpoint);
  const double encode_s = absl::ToDoubleSeconds(absl::Now() - t);
  const std::string path = absl::StrCat(absl::GetFlag(FLAGS_dir), "/crema-checkpoint-bench");
  t = absl::Now();
  const int fd = ::open(path.c_str(), O_CREAT | O_TRUNC | O_WRONLY, 0600);
  if (fd < 0 || ::write(fd, file.data(), file.size()) != static_cast<ssize_t>(file.size()) ||
      ::fsync(fd) != 0) {
    std::perror("write");
    return 1;
  }
  ::close(fd);
  const double write_s = absl::ToDoubleSeconds(absl::Now() - t);

  // Restart: read, verify + decompress, restore.
  t = absl::Now();
  std::string read_back(file.size(), '\0');
  const int in = ::open(path.c_str(), O_RDONLY);
  if (in < 0 || ::read(in, read_back.data(), read_back.size()) !=
                    static_cast<ssize_t>(read_back.size())) {
    std::perror("read");
    return 1;
  }
  ::close(in);
  const double read_s = absl::ToDoubleSeconds(absl::Now() - t);
  t = absl::Now();
  absl::StatusOr<raft::storage::Snapshot> snapshot = raft::storage::DecodeSnapshotFile(read_back);
  if (!snapshot.ok()) {
    std::fprintf(stderr, "%s\n", std::string(snapshot.status().message()).c_str());
    return 1;
  }
  const double decode_s = absl::ToDoubleSeconds(absl::Now() - t);
  t = absl::Now();
  auto restored = std::make_unique<CacheStateMachine>(ShardConfig{});
  if (absl::Status s = restored->Restore(snapshot->data); !s.ok()) {
    std::fprintf(stderr, "%s\n", std::string(s.message()).c_str());
    return 1;
  }
  const double restore_s = absl::ToDoubleSeconds(absl::Now() - t);
  ::unlink(path.c_str());
  const bool same = restored->Digest() == sm->Digest();

  std::printf("shard replica with %lld keys (16 B keys, 32 B values, 1/3 with TTL), built in %.2f s\n",
              static_cast<long long>(n), build_s);
  std::printf("checkpoint: %.1f MB raw, %.1f MB as an LZ4 snapshot file; Checkpoint %.2f s, "
              "encode %.2f s, write+fsync %.2f s\n",
              checkpoint.size() / 1e6, file.size() / 1e6, checkpoint_s, encode_s, write_s);
  std::printf("restart: read %.2f s + verify/decompress %.2f s + restore %.2f s = %.2f s "
              "(restored state %s)\n",
              read_s, decode_s, restore_s, read_s + decode_s + restore_s,
              same ? "identical" : "DIFFERS");
  std::printf("memory: state machine %.1f B/key, bare LocalCache %.1f B/key: replicated "
              "overhead %.1f B/key\n",
              static_cast<double>(sm_bytes) / n, static_cast<double>(baseline_bytes) / n,
              (static_cast<double>(sm_bytes) - static_cast<double>(baseline_bytes)) / n);
  return same ? 0 : 1;
}

}  // namespace
}  // namespace crema::replicated

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return crema::replicated::Run();
}
