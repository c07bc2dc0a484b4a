// WAL throughput without a real disk: appends/s and bytes/s with one Sync per batch of 1, 16 and
// 256 entries, on (a) a trivial in-memory disk whose Sync is free — the WAL's own CPU cost
// (framing, XXH3, copies, segment handling) — and (b) sim::SimDisk, whose Sync copies the file's
// unsynced state (a simulator cost, shown for scale). Not a real disk's fsync latency.
//
//   bazel build -c opt //consensus/storage:wal_benchmark && bazel-bin/consensus/storage/wal_benchmark
#include <chrono>
#include <map>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "consensus/storage/wal.h"
#include "sim/sim_disk.h"

namespace crema::raft::storage {
namespace {

// Files are strings; Sync does nothing. Just enough Disk for the benchmark.
class MemoryDisk final : public Disk {
 public:
  class MemoryFile final : public File {
   public:
    explicit MemoryFile(std::string* data) : data_(data) {}
    absl::StatusOr<std::string> Read(uint64_t offset, size_t length) override {
      if (offset >= data_->size()) return std::string();
      return data_->substr(offset, length);
    }
    absl::Status Write(uint64_t offset, std::string_view data) override {
      if (data_->size() < offset + data.size()) data_->resize(offset + data.size());
      data_->replace(offset, data.size(), data);
      return absl::OkStatus();
    }
    absl::Status Truncate(uint64_t size) override {
      data_->resize(size);
      return absl::OkStatus();
    }
    absl::Status Sync() override { return absl::OkStatus(); }
    uint64_t Size() const override { return data_->size(); }

   private:
    std::string* data_;
  };
  absl::StatusOr<std::unique_ptr<File>> Open(std::string_view name, OpenMode mode) override {
    auto it = files_.find(std::string(name));
    if (it == files_.end()) {
      if (mode == OpenMode::kOpenExisting) return absl::NotFoundError("no file");
      it = files_.emplace(std::string(name), std::make_unique<std::string>()).first;
    }
    return std::unique_ptr<File>(new MemoryFile(it->second.get()));
  }
  absl::Status Delete(std::string_view name) override {
    files_.erase(std::string(name));
    return absl::OkStatus();
  }
  absl::Status Rename(std::string_view from, std::string_view to) override {
    auto node = files_.extract(std::string(from));
    node.key() = std::string(to);
    files_.insert(std::move(node));
    return absl::OkStatus();
  }
  absl::StatusOr<std::vector<std::string>> List(std::string_view prefix) override {
    std::vector<std::string> out;
    for (const auto& [name, data] : files_) {
      if (name.compare(0, prefix.size(), prefix) == 0) out.push_back(name);
    }
    return out;
  }

 private:
  std::map<std::string, std::unique_ptr<std::string>> files_;
};

constexpr size_t kEntryDataBytes = 128;
constexpr uint64_t kTotalEntries = 200'000;

void Run(Disk& disk, const char* disk_name, size_t batch) {
  WalContents contents;
  auto wal = Wal::Open(&disk, "bench/", {uint64_t{1} << 20}, &contents);
  if (!wal.ok()) {
    std::fprintf(stderr, "open: %s\n", std::string(wal.status().message()).c_str());
    return;
  }
  std::vector<Entry> entries(batch);
  const std::string data(kEntryDataBytes, 'v');
  const auto start = std::chrono::steady_clock::now();
  Index next = 1;
  uint64_t syncs = 0;
  while (next <= kTotalEntries) {
    for (size_t i = 0; i < batch; ++i) entries[i] = Entry{1, next++, EntryType::kNormal, data};
    if (!(*wal)->Append(entries).ok() || !(*wal)->SetHardState({1, 1, next - 1}).ok() ||
        !(*wal)->Sync().ok()) {
      std::fprintf(stderr, "write failed\n");
      return;
    }
    ++syncs;
    if (syncs % 64 == 0 && !(*wal)->Compact(next - 1000).ok()) return;
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const double entries_per_s = static_cast<double>(next - 1) / seconds;
  std::printf("%-8s batch %4zu: %10.0f appends/s  %8.1f MB/s payload  %9.0f syncs/s\n",
              disk_name, batch,
              entries_per_s, entries_per_s * kEntryDataBytes / 1e6,
              static_cast<double>(syncs) / seconds);
}

}  // namespace
}  // namespace crema::raft::storage

int main() {
  std::printf("WAL without a real disk, %zu-byte entries, one Sync per batch\n",
              crema::raft::storage::kEntryDataBytes);
  for (size_t batch : {1, 16, 256}) {
    crema::raft::storage::MemoryDisk memory;
    crema::raft::storage::Run(memory, "memory", batch);
  }
  for (size_t batch : {1, 16, 256}) {
    crema::sim::SimDisk sim_disk(crema::Random(1), crema::sim::DiskFaultConfig{});
    crema::raft::storage::Run(sim_disk, "SimDisk", batch);
  }
  return 0;
}
