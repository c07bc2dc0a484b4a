// Fuzz target: WAL recovery from a directory image (wal.h, wal_format.h).
//
// Structure-aware, because random bytes would never pass a record's header check: the input is a
// program. Part 1 drives a real Wal on an in-memory SimDisk (appends that may replace a suffix,
// hard states, resets, flushes, syncs, compactions; small segments so there are several); the
// disk then crashes (unsynced writes survive, vanish or tear, drawn from a seed in the input).
// Part 2 mutates the resulting image through the Disk API: bit flips, byte overwrites, zeroed
// ranges, truncations, garbage appended, whole files deleted. Then Wal::Open recovers it.
//
// Oracles:
//   * never a crash, sanitizer report, or memory out of proportion to the image (MemoryBudget);
//   * recovery fails only with DataLoss;
//   * a recovered log is well formed: entries consecutive from base_index + 1;
//   * with no mutation, or only bit flips (checksums must catch every one), a successful recovery
//     is exactly the state after some prefix of the operations since the last successful Sync
//     (as wal_crash_test.cc checks with random programs), and with no mutation it must succeed;
//   * a recovered WAL keeps working: one more entry is appended, synced, and recovered again.
// Entry data never contains a zero byte, so no record holds a whole sector of zeros (the one
// documented case where a bit flip in the last sync batch reads as a torn write).
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "consensus/storage/wal.h"
#include "sim/sim_disk.h"
#include "tools/fuzz/disk_image_mutation.h"
#include "tools/fuzz/fuzz_input.h"
#include "tools/fuzz/memory_budget.h"

namespace crema::raft::storage {
namespace {

constexpr int kMaxOps = 32;
constexpr int kMaxMutations = 8;
constexpr char kPrefix[] = "w/";

struct Model {
  HardState hard_state;
  Index base = 0;
  std::vector<Entry> entries;  // from base + 1
  Index next() const { return base + entries.size() + 1; }
};

[[noreturn]] void Fail(const char* what) {
  std::fprintf(stderr, "wal_fuzzer: %s\n", what);
  std::abort();
}

std::string EntryData(fuzz::FuzzInput& in) {
  std::string data = in.Bytes(120);
  for (char& c : data) c = c == 0 ? 1 : c;
  return data;
}

class Program {
 public:
  Program(fuzz::FuzzInput& in, sim::SimDisk& disk) : in_(in), disk_(disk) {}

  // Runs part 1 and returns the states the recovered WAL may legitimately show.
  std::vector<Model> Run(uint64_t segment_bytes) {
    WalContents contents;
    absl::StatusOr<std::unique_ptr<Wal>> wal = Wal::Open(&disk_, kPrefix, {segment_bytes},
                                                         &contents);
    if (!wal.ok()) Fail("a fresh WAL does not open");
    wal_ = *std::move(wal);
    const int ops = static_cast<int>(in_.InRange(0, kMaxOps));
    for (int op = 0; op < ops && wal_ != nullptr; ++op) Step();
    wal_.reset();
    return candidates_;
  }
  // Compaction point: entries below it may be gone, nothing at or above it may be.
  Index floor() const { return floor_; }

 private:
  void Step() {
    const Model& now = candidates_.back();
    absl::Status s;
    switch (in_.U8() % 8) {
      case 0: case 1: case 2: {
        const Index lo = std::max(now.base, floor_) + 1;
        Index first = now.next();
        if (in_.InRange(0, 3) == 0 && now.next() > lo) first = in_.InRange(lo, now.next());
        if (first != now.next()) ++term_;
        std::vector<Entry> batch;
        const int count = static_cast<int>(in_.InRange(1, 6));
        for (int i = 0; i < count; ++i) {
          batch.push_back({term_, first + i, EntryType::kNormal, EntryData(in_)});
        }
        s = wal_->Append(batch);
        Model next = now;
        next.entries.resize(first - next.base - 1);
        for (Entry& e : batch) next.entries.push_back(std::move(e));
        candidates_.push_back(std::move(next));
        break;
      }
      case 3: {
        const HardState hs{term_, static_cast<ReplicaId>(in_.InRange(0, 3)), in_.InRange(0, 99)};
        s = wal_->SetHardState(hs);
        Model next = now;
        next.hard_state = hs;
        candidates_.push_back(std::move(next));
        break;
      }
      case 4: {
        const Index index = std::max(floor_, now.next() - 1) + in_.InRange(0, 4);
        s = wal_->Reset(index, ++term_);
        candidates_.push_back(Model{now.hard_state, index, {}});
        break;
      }
      case 5:
        s = wal_->Flush();
        break;
      case 6:
        s = wal_->Sync();
        if (s.ok()) candidates_.erase(candidates_.begin(), candidates_.end() - 1);
        break;
      default: {
        const Model& synced = candidates_.front();
        if (synced.entries.empty() || candidates_.size() != 1) return;
        const Index index = in_.InRange(synced.base + 1, synced.next() - 1);
        s = wal_->Compact(index);
        if (s.ok()) floor_ = std::max(floor_, index);
        break;
      }
    }
    if (!s.ok()) Fail("a WAL call failed on a disk without I/O errors");
  }

  fuzz::FuzzInput& in_;
  sim::SimDisk& disk_;
  std::unique_ptr<Wal> wal_;
  std::vector<Model> candidates_{Model{}};  // [0] = synced state; back() = current state
  Index floor_ = 0;
  Term term_ = 1;
};


bool Matches(const WalContents& got, const std::vector<Model>& candidates, Index floor) {
  for (const Model& m : candidates) {
    if (got.hard_state != m.hard_state || got.base_index < m.base) continue;
    if (got.base_index > std::max(m.base, floor == 0 ? 0 : floor - 1)) continue;
    const size_t skip = got.base_index - m.base;
    if (skip > m.entries.size()) continue;
    if (std::equal(got.entries.begin(), got.entries.end(), m.entries.begin() + skip,
                   m.entries.end())) {
      return true;
    }
  }
  return false;
}

void CheckWellFormed(const WalContents& got) {
  for (size_t i = 0; i < got.entries.size(); ++i) {
    if (got.entries[i].index != got.base_index + 1 + i) Fail("recovered entries not consecutive");
  }
}

// A recovered WAL accepts one more entry and recovers it.
void CheckStillWorks(sim::SimDisk& disk, std::unique_ptr<Wal> wal, const WalContents& got,
                     uint64_t segment_bytes) {
  const Index next = wal->next_index();
  const Entry extra{std::max<Term>(got.hard_state.term, 1) + 100, next, EntryType::kNormal, "x"};
  if (!wal->Append({extra}).ok() || !wal->Sync().ok()) Fail("a recovered WAL cannot append");
  wal.reset();
  WalContents again;
  absl::StatusOr<std::unique_ptr<Wal>> reopened = Wal::Open(&disk, kPrefix, {segment_bytes},
                                                            &again);
  if (!reopened.ok()) Fail("a WAL written after recovery does not reopen");
  if (again.entries.empty() || again.entries.back() != extra) Fail("the appended entry is lost");
}

}  // namespace
}  // namespace crema::raft::storage

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace crema::raft::storage;
  crema::fuzz::FuzzInput in(data, size);
  crema::sim::DiskFaultConfig faults;
  faults.unsynced_write_lost = {in.InRange(0, 2), 4};
  faults.unsynced_write_torn = {in.InRange(0, 2), 4};
  faults.unsynced_file_vanishes = {in.InRange(0, 2), 2};
  crema::sim::SimDisk disk(crema::Random(in.U64()), faults);
  const uint64_t segment_bytes = in.InRange(64, 4096);
  Program program(in, disk);
  const std::vector<Model> candidates = program.Run(segment_bytes);
  disk.Crash();
  bool only_bit_flips = true;
  const int mutations =
      crema::fuzz::MutateDiskImage(in, disk, kPrefix, kMaxMutations, &only_bit_flips);

  WalContents got;
  absl::StatusOr<std::unique_ptr<Wal>> wal;
  {
    crema::fuzz::MemoryBudget budget(disk.UsedBytes(), /*per_input_byte=*/16,
                                     /*fixed_bytes=*/1 << 20);
    wal = Wal::Open(&disk, kPrefix, {segment_bytes}, &got);
  }
  if (!wal.ok()) {
    if (!absl::IsDataLoss(wal.status())) Fail("recovery failed with something else than DataLoss");
    if (mutations == 0) Fail("an unmutated image does not recover");
    return 0;
  }
  CheckWellFormed(got);
  if (only_bit_flips && !Matches(got, candidates, program.floor())) {
    Fail(mutations == 0 ? "recovered state is not one the program wrote"
                        : "a bit flip went unnoticed: recovered state is not one written");
  }
  CheckStillWorks(disk, *std::move(wal), got, segment_bytes);
  return 0;
}
