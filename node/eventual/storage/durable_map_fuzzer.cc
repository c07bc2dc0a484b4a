// Fuzz target: DurableMap recovery from a directory image (durable_map.h) — the files eventual
// keyspaces keep their replica data and hints in.
//
// Structure-aware, like consensus/storage/wal_fuzzer.cc: the input is a program. Part 1 drives a
// real DurableMap on an in-memory SimDisk (puts, erases, commits, compactions, drawn disk faults
// at the crash); the disk then crashes. Part 2 mutates the image through the Disk API (bit flips,
// overwrites, zeroed ranges, truncations, garbage appended, files deleted). Then Open recovers it.
//
// Oracles:
//   * never a crash, sanitizer report, or memory out of proportion to the image (MemoryBudget);
//   * recovery fails only with DATA_LOSS;
//   * with no I/O errors injected and no mutation, recovery succeeds with exactly the contents
//     of the last successful Commit or Compact (uncommitted records are never durable, committed
//     ones always are);
//   * with only bit flips (XXH3 must catch every one), a successful recovery is the last
//     snapshot plus a prefix of the records committed after it: never an invented or altered
//     value;
//   * a recovered map keeps working: one more put is committed and recovered again.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "node/eventual/storage/durable_map.h"
#include "sim/sim_disk.h"
#include "tools/fuzz/disk_image_mutation.h"
#include "tools/fuzz/fuzz_input.h"
#include "tools/fuzz/memory_budget.h"

namespace crema::eventual {
namespace {

using Contents = DurableMap::Contents;

constexpr int kMaxOps = 48;
constexpr int kMaxMutations = 8;
constexpr char kPrefix[] = "ev/";

[[noreturn]] void Fail(const char* what) {
  std::fprintf(stderr, "durable_map_fuzzer: %s\n", what);
  std::abort();
}

DurableMap::ForEach Emitter(const Contents& contents) {
  return [&contents](const DurableMap::Emit& emit) {
    for (const auto& [k, v] : contents) emit(k, v);
  };
}

// Part 1. Tracks the committed contents and, since the last snapshot, the contents after each
// committed record (the states a log cut at a record boundary can show).
class Program {
 public:
  Program(fuzz::FuzzInput& in, sim::SimDisk& disk) : in_(in), disk_(disk) {}

  void Run(uint64_t compact_log_bytes) {
    Contents contents;
    DurableMapRecovery recovery;
    absl::StatusOr<std::unique_ptr<DurableMap>> map =
        DurableMap::Open(&disk_, kPrefix, {compact_log_bytes}, &contents, &recovery);
    if (!map.ok()) {
      if (io_errors_possible_) return;
      Fail("a fresh map does not open");
    }
    std::unique_ptr<DurableMap> m = *std::move(map);
    prefixes_.push_back(committed_);
    const int ops = static_cast<int>(in_.InRange(0, kMaxOps));
    for (int op = 0; op < ops; ++op) {
      switch (in_.U8() % 5) {
        case 0:
        case 1: {
          std::string key = "k" + std::to_string(in_.InRange(0, 15));
          std::string value = in_.Bytes(300);
          m->Put(key, value);
          pending_.push_back({key, value});
          break;
        }
        case 2: {
          std::string key = "k" + std::to_string(in_.InRange(0, 15));
          m->Erase(key);
          pending_.push_back({key, std::nullopt});
          break;
        }
        case 3:
          if (m->Commit().ok()) {
            for (const auto& [key, value] : pending_) {
              if (value) {
                committed_[key] = *value;
              } else {
                committed_.erase(key);
              }
              prefixes_.push_back(committed_);
            }
          } else {
            uncertain_ = true;  // the failed batch may still surface (see the contract)
          }
          pending_.clear();
          break;
        default:
          if (m->has_pending()) m->DiscardPending();
          pending_.clear();
          if (m->Compact(Emitter(committed_)).ok()) {
            prefixes_.assign(1, committed_);
          } else {
            uncertain_ = true;
          }
          break;
      }
    }
  }

  void set_io_errors_possible(bool on) { io_errors_possible_ = on; }
  bool exact() const { return !io_errors_possible_ && !uncertain_; }
  const Contents& committed() const { return committed_; }
  bool IsPrefixState(const Contents& got) const {
    for (const Contents& c : prefixes_) {
      if (c == got) return true;
    }
    return false;
  }

 private:
  fuzz::FuzzInput& in_;
  sim::SimDisk& disk_;
  bool io_errors_possible_ = false;
  bool uncertain_ = false;
  Contents committed_;
  std::vector<Contents> prefixes_;
  std::vector<std::pair<std::string, std::optional<std::string>>> pending_;
};


}  // namespace
}  // namespace crema::eventual

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace crema::eventual;
  crema::fuzz::FuzzInput in(data, size);
  crema::sim::DiskFaultConfig faults;
  faults.unsynced_write_lost = {in.InRange(0, 2), 4};
  faults.unsynced_write_torn = {in.InRange(0, 2), 4};
  faults.unsynced_file_vanishes = {in.InRange(0, 2), 2};
  const bool io_errors = in.InRange(0, 3) == 0;
  if (io_errors) faults.io_error = {1, 8};
  crema::sim::SimDisk disk(crema::Random(in.U64()), faults);
  const uint64_t compact_log_bytes = in.InRange(0, 4096);
  Program program(in, disk);
  program.set_io_errors_possible(io_errors);
  program.Run(compact_log_bytes);
  disk.Crash();
  disk.config().io_error = {0, 1};  // recovery itself runs on a healthy disk
  bool only_bit_flips = true;
  const int mutations =
      crema::fuzz::MutateDiskImage(in, disk, kPrefix, kMaxMutations, &only_bit_flips);

  Contents got;
  DurableMapRecovery recovery;
  absl::StatusOr<std::unique_ptr<DurableMap>> map;
  {
    crema::fuzz::MemoryBudget budget(disk.UsedBytes(), /*per_input_byte=*/16,
                                     /*fixed_bytes=*/1 << 20);
    map = DurableMap::Open(&disk, kPrefix, {compact_log_bytes}, &got, &recovery);
  }
  if (!map.ok()) {
    if (!absl::IsDataLoss(map.status())) Fail("recovery failed with something else than DATA_LOSS");
    if (mutations == 0 && program.exact()) Fail("an unmutated image does not recover");
    return 0;
  }
  if (program.exact()) {
    if (mutations == 0 && got != program.committed()) {
      Fail("recovered contents are not the last committed contents");
    }
    if (only_bit_flips && !program.IsPrefixState(got)) {
      Fail("a bit flip went unnoticed: recovered contents are not a committed prefix");
    }
  }
  // A recovered map keeps working.
  std::unique_ptr<DurableMap> m = *std::move(map);
  m->Put("after-recovery", "x");
  if (!m->Commit().ok()) Fail("a recovered map cannot commit");
  m.reset();
  Contents again;
  absl::StatusOr<std::unique_ptr<DurableMap>> reopened =
      DurableMap::Open(&disk, kPrefix, {compact_log_bytes}, &again, &recovery);
  if (!reopened.ok()) Fail("a map written after recovery does not reopen");
  got["after-recovery"] = "x";
  if (again != got) Fail("the reopened map differs from the recovered one plus the new put");
  return 0;
}
