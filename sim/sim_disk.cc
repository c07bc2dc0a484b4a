#include "sim/sim_disk.h"

#include <algorithm>
#include <cassert>
#include <utility>

#include "absl/strings/str_cat.h"

namespace crema::sim {

struct SimDisk::Inode {
  struct PendingOp {
    bool is_write = true;
    uint64_t offset = 0;  // writes
    std::string data;     // writes
    uint64_t size = 0;    // truncates
  };
  std::string synced;
  std::string current;
  std::vector<PendingOp> pending;  // in issue order; bounded by kMaxUnsyncedOps
};

namespace {

void ApplyWrite(std::string& image, uint64_t offset, std::string_view data) {
  if (image.size() < offset + data.size()) image.resize(offset + data.size(), '\0');
  image.replace(offset, data.size(), data);
}

}  // namespace

class SimDisk::SimFile final : public File {
 public:
  SimFile(SimDisk* disk, std::shared_ptr<Inode> inode, std::string name)
      : disk_(disk), inode_(std::move(inode)), name_(std::move(name)),
        generation_(disk->generation_) {}

  absl::StatusOr<std::string> Read(uint64_t offset, size_t length) override {
    assert(length <= kMaxReadBytes);
    if (absl::Status s = Check(); !s.ok()) return s;
    if (absl::Status s = disk_->Delay(); !s.ok()) return s;
    if (absl::Status s = Check(); !s.ok()) return s;
    const std::string& image = inode_->current;
    if (offset >= image.size()) return std::string();
    std::string out = image.substr(offset, std::min<uint64_t>(length, image.size() - offset));
    if (!out.empty() && disk_->config_.read_corruption.Draw(disk_->random_)) {
      const uint64_t bit = disk_->random_.Uniform(out.size() * 8);
      out[bit / 8] = static_cast<char>(out[bit / 8] ^ (1u << (bit % 8)));
      ++disk_->stats_.reads_corrupted;
      disk_->Trace("disk.corrupt_read", absl::StrCat(name_, "@", offset + bit / 8));
    }
    return out;
  }

  absl::Status Write(uint64_t offset, std::string_view data) override {
    if (absl::Status s = Check(); !s.ok()) return s;
    if (absl::Status s = disk_->Delay(); !s.ok()) return s;
    if (absl::Status s = Check(); !s.ok()) return s;
    if (absl::Status s = disk_->MaybeIoError("write"); !s.ok()) return s;
    const uint64_t new_size = std::max<uint64_t>(inode_->current.size(), offset + data.size());
    if (absl::Status s = CheckRoom(new_size); !s.ok()) {
      // A full disk takes what fits first, as a POSIX short write before ENOSPC does (the real
      // disk's Write loops over pwrite): the caller's file holds a prefix of the data it was told
      // failed — recovery must cope with that unsynced prefix.
      if (absl::IsResourceExhausted(s) && inode_->pending.size() < kMaxUnsyncedOps) {
        const uint64_t used = disk_->UsedBytes();
        const uint64_t room =
            used < disk_->config_.capacity_bytes ? disk_->config_.capacity_bytes - used : 0;
        const uint64_t end = inode_->current.size() + room;  // the file may grow to here
        const uint64_t fits = end > offset ? std::min<uint64_t>(data.size(), end - offset) : 0;
        if (fits > 0) {
          ApplyWrite(inode_->current, offset, data.substr(0, fits));
          inode_->pending.push_back({true, offset, std::string(data.substr(0, fits)), 0});
        }
      }
      return s;
    }
    ApplyWrite(inode_->current, offset, data);
    inode_->pending.push_back({true, offset, std::string(data), 0});
    return absl::OkStatus();
  }

  absl::Status Truncate(uint64_t size) override {
    if (absl::Status s = Check(); !s.ok()) return s;
    if (absl::Status s = disk_->Delay(); !s.ok()) return s;
    if (absl::Status s = Check(); !s.ok()) return s;
    if (absl::Status s = disk_->MaybeIoError("truncate"); !s.ok()) return s;
    if (absl::Status s = CheckRoom(size); !s.ok()) return s;
    inode_->current.resize(size, '\0');
    inode_->pending.push_back({false, 0, std::string(), size});
    return absl::OkStatus();
  }

  absl::Status Sync() override {
    if (absl::Status s = Check(); !s.ok()) return s;
    if (absl::Status s = disk_->Delay(); !s.ok()) return s;
    if (absl::Status s = Check(); !s.ok()) return s;
    if (absl::Status s = disk_->MaybeIoError("sync"); !s.ok()) return s;
    // synced + pending == current (the inode's invariant): replaying the pending operations costs
    // what was written since the last Sync, not the file's size (a log is synced very often).
    for (const Inode::PendingOp& op : inode_->pending) {
      if (op.is_write) {
        ApplyWrite(inode_->synced, op.offset, op.data);
      } else {
        inode_->synced.resize(op.size, '\0');
      }
    }
    assert(inode_->synced.size() == inode_->current.size());
    inode_->pending.clear();
    ++disk_->stats_.syncs;
    // The file's name becomes durable too (if it still has one).
    auto it = disk_->files_.find(name_);
    if (it != disk_->files_.end() && it->second.inode == inode_) it->second.durable = true;
    return absl::OkStatus();
  }

  uint64_t Size() const override { return inode_->current.size(); }

 private:
  absl::Status Check() const {
    if (generation_ != disk_->generation_) {
      return absl::FailedPreconditionError(absl::StrCat("stale handle to ", name_, " (disk crashed)"));
    }
    return absl::OkStatus();
  }

  // Fails if growing this file to `new_size` overflows the capacity or the unsynced-op bound.
  absl::Status CheckRoom(uint64_t new_size) {
    if (inode_->pending.size() >= kMaxUnsyncedOps) {
      return absl::ResourceExhaustedError(absl::StrCat(name_, ": too many unsynced writes"));
    }
    const uint64_t old_size = inode_->current.size();
    if (new_size > old_size &&
        disk_->UsedBytes() + (new_size - old_size) > disk_->config_.capacity_bytes) {
      ++disk_->stats_.full_errors;
      disk_->Trace("disk.full", name_);
      return absl::ResourceExhaustedError("disk full");
    }
    return absl::OkStatus();
  }

  SimDisk* disk_;
  std::shared_ptr<Inode> inode_;
  std::string name_;
  uint64_t generation_;
};

SimDisk::SimDisk(Random random, DiskFaultConfig config) : random_(random), config_(config) {
  assert(config_.sector_bytes > 0);
  assert(config_.latency_min <= config_.latency_max);
}

SimDisk::~SimDisk() = default;

absl::Status SimDisk::CheckName(std::string_view name) {
  if (name.empty() || name.size() > kMaxFileNameBytes) {
    return absl::InvalidArgumentError(absl::StrCat("bad file name length ", name.size()));
  }
  return absl::OkStatus();
}

absl::Status SimDisk::Delay() {
  if (config_.latency_max <= absl::ZeroDuration()) return absl::OkStatus();
  // REQUIRES (latency mode): an attached Executor and a fiber. Programmer error otherwise.
  assert(executor_ != nullptr && executor_->InFiber());
  return executor_->Sleep(random_.DurationBetween(config_.latency_min, config_.latency_max));
}

absl::Status SimDisk::MaybeIoError(std::string_view op) {
  if (!config_.io_error.Draw(random_)) return absl::OkStatus();
  ++stats_.io_errors;
  Trace("disk.io_error", op);
  return absl::UnavailableError(absl::StrCat("injected I/O error in ", std::string(op)));
}

void SimDisk::Trace(std::string_view kind, std::string_view detail) {
  if (trace_) trace_(kind, detail);
}

absl::StatusOr<std::unique_ptr<File>> SimDisk::Open(std::string_view name, OpenMode mode) {
  if (absl::Status s = CheckName(name); !s.ok()) return s;
  if (absl::Status s = Delay(); !s.ok()) return s;
  auto it = files_.find(name);
  if (it == files_.end()) {
    if (mode == OpenMode::kOpenExisting) {
      return absl::NotFoundError(absl::StrCat("no file ", std::string(name)));
    }
    it = files_.emplace(std::string(name), Entry{std::make_shared<Inode>(), false}).first;
  }
  return std::unique_ptr<File>(new SimFile(this, it->second.inode, std::string(name)));
}

absl::Status SimDisk::Delete(std::string_view name) {
  if (absl::Status s = CheckName(name); !s.ok()) return s;
  if (absl::Status s = Delay(); !s.ok()) return s;
  auto it = files_.find(name);
  if (it == files_.end()) return absl::NotFoundError(absl::StrCat("no file ", std::string(name)));
  files_.erase(it);
  return absl::OkStatus();
}

absl::Status SimDisk::Rename(std::string_view from, std::string_view to) {
  if (absl::Status s = CheckName(from); !s.ok()) return s;
  if (absl::Status s = CheckName(to); !s.ok()) return s;
  if (absl::Status s = Delay(); !s.ok()) return s;
  auto it = files_.find(from);
  if (it == files_.end()) return absl::NotFoundError(absl::StrCat("no file ", std::string(from)));
  if (from == to) return absl::OkStatus();
  std::shared_ptr<Inode> inode = std::move(it->second.inode);
  files_.erase(it);
  // Durable on return. Open handles keep their old name: a later Sync through them makes the
  // contents durable but cannot resurrect the old name.
  files_.insert_or_assign(std::string(to), Entry{std::move(inode), true});
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> SimDisk::List(std::string_view prefix) {
  if (absl::Status s = Delay(); !s.ok()) return s;
  std::vector<std::string> names;
  for (auto it = files_.lower_bound(prefix); it != files_.end(); ++it) {
    if (it->first.compare(0, prefix.size(), prefix) != 0) break;
    names.push_back(it->first);
  }
  return names;
}

void SimDisk::CrashInode(const std::string& name, Inode& inode) {
  std::string image = std::move(inode.synced);
  for (const Inode::PendingOp& op : inode.pending) {
    if (config_.unsynced_write_lost.Draw(random_)) {
      ++stats_.writes_lost;
      Trace("disk.lost", absl::StrCat(name, op.is_write ? " write@" : " truncate@",
                                      op.is_write ? op.offset : op.size));
      continue;
    }
    if (!op.is_write) {
      image.resize(op.size, '\0');
      ++stats_.writes_survived;
      continue;
    }
    if (config_.unsynced_write_torn.Draw(random_)) {
      // Keep a prefix ending on an absolute sector boundary strictly inside the write (or none).
      const uint64_t sector = config_.sector_bytes;
      const uint64_t first_boundary = (op.offset / sector + 1) * sector;
      const uint64_t end = op.offset + op.data.size();
      uint64_t cut = op.offset;
      if (first_boundary < end) {
        const uint64_t boundaries = (end - 1 - first_boundary) / sector + 1;
        const uint64_t pick = random_.Uniform(boundaries + 1);  // 0 = nothing survives
        if (pick > 0) cut = first_boundary + (pick - 1) * sector;
      }
      ++stats_.writes_torn;
      Trace("disk.torn", absl::StrCat(name, " write@", op.offset, " kept ", cut - op.offset, "/",
                                      op.data.size()));
      if (cut > op.offset) ApplyWrite(image, op.offset, std::string_view(op.data).substr(0, cut - op.offset));
      continue;
    }
    ++stats_.writes_survived;
    ApplyWrite(image, op.offset, op.data);
  }
  inode.pending.clear();
  inode.synced = image;
  inode.current = std::move(image);
}

void SimDisk::Crash() {
  ++stats_.crashes;
  ++generation_;
  for (auto it = files_.begin(); it != files_.end();) {
    if (!it->second.durable && config_.unsynced_file_vanishes.Draw(random_)) {
      ++stats_.files_vanished;
      Trace("disk.vanished", it->first);
      it = files_.erase(it);
      continue;
    }
    it->second.durable = true;  // whatever survived a crash is on disk now
    CrashInode(it->first, *it->second.inode);
    ++it;
  }
}

void SimDisk::Wipe() {
  ++generation_;
  files_.clear();
  Trace("disk.wipe", "");
}

uint64_t SimDisk::UsedBytes() const {
  uint64_t used = 0;
  for (const auto& [name, entry] : files_) used += entry.inode->current.size();
  return used;
}

bool SimDisk::HasUnsyncedChanges() const {
  for (const auto& [name, entry] : files_) {
    if (!entry.durable || !entry.inode->pending.empty()) return true;
  }
  return false;
}

absl::StatusOr<std::string> SimDisk::SyncedContent(std::string_view name) const {
  auto it = files_.find(name);
  if (it == files_.end()) return absl::NotFoundError(absl::StrCat("no file ", std::string(name)));
  return it->second.inode->synced;
}

absl::StatusOr<std::string> SimDisk::CurrentContent(std::string_view name) const {
  auto it = files_.find(name);
  if (it == files_.end()) return absl::NotFoundError(absl::StrCat("no file ", std::string(name)));
  return it->second.inode->current;
}

}  // namespace crema::sim
