#include "transport/posix_disk.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <errno.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"

#include "node/executor.h"
#include "transport/asio_loop.h"
#include "transport/real_clock.h"

namespace crema::transport {
namespace {

class PosixDiskTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* tmp = std::getenv("TEST_TMPDIR");
    dir_ = std::string(tmp != nullptr ? tmp : "/tmp") + "/posix_disk_" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(dir_);
    absl::StatusOr<std::unique_ptr<PosixDisk>> disk = PosixDisk::Create(dir_);
    ASSERT_TRUE(disk.ok()) << disk.status();
    disk_ = std::move(*disk);
  }

  std::string ReadAll(std::string_view name) {
    absl::StatusOr<std::unique_ptr<File>> file = disk_->Open(name, OpenMode::kOpenExisting);
    EXPECT_TRUE(file.ok()) << file.status();
    if (!file.ok()) return "<error>";
    absl::StatusOr<std::string> data = (*file)->Read(0, 1 << 20);
    EXPECT_TRUE(data.ok()) << data.status();
    return data.ok() ? *data : "<error>";
  }

  std::string dir_;
  std::unique_ptr<PosixDisk> disk_;
};

TEST_F(PosixDiskTest, WriteSyncReadAndReopen) {
  {
    absl::StatusOr<std::unique_ptr<File>> file = disk_->Open("raft/7/log", OpenMode::kCreate);
    ASSERT_TRUE(file.ok()) << file.status();
    ASSERT_TRUE((*file)->Write(0, "hello").ok());
    ASSERT_TRUE((*file)->Write(8, "world").ok());  // leaves a zero-filled gap
    EXPECT_EQ((*file)->Size(), 13u);
    ASSERT_TRUE((*file)->Sync().ok());
    absl::StatusOr<std::string> tail = (*file)->Read(8, 100);  // past the end: fewer bytes
    ASSERT_TRUE(tail.ok());
    EXPECT_EQ(*tail, "world");
  }
  EXPECT_TRUE(std::filesystem::is_regular_file(dir_ + "/raft/7/log"));
  EXPECT_EQ(ReadAll("raft/7/log"), std::string("hello\0\0\0world", 13));
  absl::StatusOr<std::unique_ptr<File>> again = disk_->Open("raft/7/log", OpenMode::kCreate);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ((*again)->Size(), 13u);  // kCreate on an existing file keeps it
  ASSERT_TRUE((*again)->Truncate(5).ok());
  ASSERT_TRUE((*again)->Sync().ok());
  EXPECT_EQ((*again)->Size(), 5u);
  EXPECT_EQ(ReadAll("raft/7/log"), "hello");
}

TEST_F(PosixDiskTest, OpenExistingMissingIsNotFound) {
  absl::StatusOr<std::unique_ptr<File>> file = disk_->Open("nope", OpenMode::kOpenExisting);
  EXPECT_TRUE(absl::IsNotFound(file.status())) << file.status();
  EXPECT_TRUE(absl::IsNotFound(disk_->Delete("nope")));
  EXPECT_TRUE(absl::IsNotFound(disk_->Rename("nope", "other")));
}

TEST_F(PosixDiskTest, RenameReplacesAtomicallyAcrossDirectories) {
  for (auto [name, text] : {std::pair{"tmp/state", "new"}, std::pair{"ping/state", "old"}}) {
    absl::StatusOr<std::unique_ptr<File>> file = disk_->Open(name, OpenMode::kCreate);
    ASSERT_TRUE(file.ok());
    ASSERT_TRUE((*file)->Write(0, text).ok());
    ASSERT_TRUE((*file)->Sync().ok());
  }
  ASSERT_TRUE(disk_->Rename("tmp/state", "ping/state").ok());
  EXPECT_EQ(ReadAll("ping/state"), "new");
  absl::StatusOr<std::vector<std::string>> names = disk_->List("");
  ASSERT_TRUE(names.ok());
  EXPECT_EQ(*names, std::vector<std::string>{"ping/state"});
}

TEST_F(PosixDiskTest, ListFiltersByPrefixSortedAndDeleteRemoves) {
  for (const char* name : {"b", "a/2", "a/1", "a10", "c/d/e"}) {
    absl::StatusOr<std::unique_ptr<File>> file = disk_->Open(name, OpenMode::kCreate);
    ASSERT_TRUE(file.ok()) << name << ": " << file.status();
  }
  absl::StatusOr<std::vector<std::string>> all = disk_->List("");
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(*all, (std::vector<std::string>{"a/1", "a/2", "a10", "b", "c/d/e"}));
  absl::StatusOr<std::vector<std::string>> a = disk_->List("a/");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(*a, (std::vector<std::string>{"a/1", "a/2"}));
  ASSERT_TRUE(disk_->Delete("a/1").ok());
  ASSERT_TRUE(disk_->Delete("c/d/e").ok());
  absl::StatusOr<std::vector<std::string>> rest = disk_->List("");
  ASSERT_TRUE(rest.ok());
  EXPECT_EQ(*rest, (std::vector<std::string>{"a/2", "a10", "b"}));
}

TEST_F(PosixDiskTest, BadNamesAreInvalidArgument) {
  for (std::string name : {std::string(""), std::string("/etc/passwd"), std::string("../escape"),
                           std::string("a/../../b"), std::string("a//b"), std::string("a/"),
                           std::string("./a"), std::string("a/."), std::string("nul\0x", 5),
                           std::string(kMaxFileNameBytes + 1, 'n')}) {
    EXPECT_TRUE(absl::IsInvalidArgument(disk_->Open(name, OpenMode::kCreate).status())) << name;
    EXPECT_TRUE(absl::IsInvalidArgument(disk_->Delete(name))) << name;
    EXPECT_TRUE(absl::IsInvalidArgument(disk_->Rename("ok", name))) << name;
  }
  EXPECT_TRUE(disk_->Open(std::string(kMaxFileNameBytes, 'n'), OpenMode::kCreate).ok());
  EXPECT_TRUE(disk_->Open("..hidden/x..y", OpenMode::kCreate).ok());  // dots inside are fine
  // Nothing escaped the data directory.
  EXPECT_FALSE(std::filesystem::exists(std::filesystem::path(dir_).parent_path() / "escape"));
}

TEST_F(PosixDiskTest, FileWhereDirectoryIsNeededIsAnError) {
  ASSERT_TRUE(disk_->Open("x", OpenMode::kCreate).ok());
  absl::StatusOr<std::unique_ptr<File>> file = disk_->Open("x/y", OpenMode::kCreate);
  EXPECT_FALSE(file.ok());
  ASSERT_TRUE(disk_->Open("dir/file", OpenMode::kCreate).ok());
  EXPECT_FALSE(disk_->Open("dir", OpenMode::kOpenExisting).ok());  // a directory is not a file
}

// --- fsync off the loop thread (OffloadSyncs) -----------------------------------------------

constexpr absl::Duration kTestTimeout = absl::Seconds(20);

class OffloadedSyncTest : public PosixDiskTest {
 protected:
  // The disk (and its worker) goes before the loop and the executor it posts to.
  void TearDown() override { disk_.reset(); }
  AsioLoop loop_;
  RealClock clock_;
  Executor executor_{&loop_, &clock_};
};

// The fsync of a Sync made from a fiber waits (on the worker thread) until another fiber has run
// five times: if Sync blocked the loop thread, that fiber could never run and the test would
// time out. Deterministic: no timing involved.
TEST_F(OffloadedSyncTest, AFiberWaitingOnSyncDoesNotStallTheLoop) {
  std::mutex mu;
  std::condition_variable cv;
  int ticks = 0;  // guarded by mu
  disk_->OffloadSyncs(&loop_.io_context(), &executor_, [&](int fd) {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return ticks >= 5; });
    return ::fsync(fd) == 0 ? 0 : errno;
  });
  std::optional<absl::Status> synced;
  executor_.Spawn("writer", [&] {
    absl::StatusOr<std::unique_ptr<File>> file = disk_->Open("raftlog/log-1", OpenMode::kCreate);
    if (!file.ok()) {
      synced = file.status();
      return;
    }
    if (absl::Status s = (*file)->Write(0, "durable"); !s.ok()) {
      synced = s;
      return;
    }
    synced = (*file)->Sync();
  });
  executor_.Spawn("ticker", [&] {
    for (int i = 0; i < 5; ++i) {
      if (!executor_.Sleep(absl::Milliseconds(1)).ok()) return;
      std::lock_guard<std::mutex> lock(mu);
      ++ticks;
      cv.notify_all();
    }
  });
  ASSERT_TRUE(loop_.RunUntil([&] { return synced.has_value(); }, kTestTimeout))
      << "Sync never returned: did it block the loop?";
  EXPECT_TRUE(synced->ok()) << *synced;
  EXPECT_EQ(disk_->sync_worker()->offloaded(), 1u);
  EXPECT_EQ(ReadAll("raftlog/log-1"), "durable");
}

TEST_F(OffloadedSyncTest, FsyncErrorsComeBackToTheCaller) {
  int next_error = EIO;
  disk_->OffloadSyncs(&loop_.io_context(), &executor_, [&](int) { return next_error; });
  std::vector<absl::Status> results;
  executor_.Spawn("writer", [&] {
    absl::StatusOr<std::unique_ptr<File>> file = disk_->Open("f", OpenMode::kCreate);
    ASSERT_TRUE(file.ok());
    results.push_back((*file)->Sync());
    next_error = ENOSPC;  // read by the worker only after the next job is queued
    results.push_back((*file)->Sync());
    next_error = 0;
    results.push_back((*file)->Sync());
  });
  ASSERT_TRUE(loop_.RunUntil([&] { return results.size() == 3; }, kTestTimeout));
  EXPECT_TRUE(absl::IsInternal(results[0])) << results[0];
  EXPECT_NE(results[0].message().find("/f"), std::string::npos) << results[0];
  EXPECT_TRUE(absl::IsResourceExhausted(results[1])) << results[1];
  EXPECT_TRUE(results[2].ok()) << results[2];
}

TEST_F(OffloadedSyncTest, OutsideAFiberSyncIsInlineAndACancelledWaiterGetsCancelled) {
  std::mutex mu;
  std::condition_variable cv;
  bool release = false;  // guarded by mu
  disk_->OffloadSyncs(&loop_.io_context(), &executor_, [&](int fd) {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return release; });
    return ::fsync(fd) == 0 ? 0 : errno;
  });
  absl::StatusOr<std::unique_ptr<File>> file = disk_->Open("g", OpenMode::kCreate);
  ASSERT_TRUE(file.ok());
  ASSERT_TRUE((*file)->Sync().ok());  // not in a fiber: fsync here, the worker is not involved
  EXPECT_EQ(disk_->sync_worker()->offloaded(), 0u);
  std::optional<absl::Status> synced;
  const FiberId waiter = executor_.Spawn("waiter", [&] { synced = (*file)->Sync(); });
  ASSERT_TRUE(loop_.RunUntil([&] { return disk_->sync_worker()->offloaded() == 1; },
                             kTestTimeout));
  executor_.Cancel(waiter);
  ASSERT_TRUE(loop_.RunUntil([&] { return synced.has_value(); }, kTestTimeout));
  EXPECT_TRUE(absl::IsCancelled(*synced)) << *synced;
  {
    std::lock_guard<std::mutex> lock(mu);
    release = true;
  }
  cv.notify_all();
  file->reset();  // the worker syncs its own descriptor: closing ours is safe
  std::optional<absl::Status> again;
  executor_.Spawn("again", [&] {
    absl::StatusOr<std::unique_ptr<File>> f = disk_->Open("g", OpenMode::kOpenExisting);
    again = f.ok() ? (*f)->Sync() : f.status();
  });
  ASSERT_TRUE(loop_.RunUntil([&] { return again.has_value(); }, kTestTimeout));
  EXPECT_TRUE(again->ok()) << *again;
}

// Many fibers write records into one file and Sync, while the worker thread takes each job with
// a random pause. The sync function reads the file through the worker's descriptor BEFORE it
// fsyncs and publishes that content as durable only AFTER fsync returned, so the published
// snapshot is a lower bound of what is on disk. Every fiber checks, when its Sync returns OK,
// that the published snapshot holds its record: it fails if a Sync returned before the fsync of
// its job finished (or its job was never run), or if a job's fsync could start before the
// write it covers. The ticker fiber counts loop turns during the run: the loop kept serving.
// Shown to bite: with the worker posting the completion before running the fsync, it fails
// (the first Sync always, later ones when no earlier fsync happened to cover them).
TEST_F(OffloadedSyncTest, ASyncReturnsOnlyOnceItsWritesAreDurable) {
  constexpr int kWriters = 6;
  constexpr int kRecordsEach = 15;
  constexpr size_t kRecordBytes = 16;
  std::mutex mu;
  std::string durable;  // guarded by mu: content known to be on disk
  int fsyncs = 0;       // guarded by mu
  uint32_t rng = 12345;  // worker thread only
  disk_->OffloadSyncs(&loop_.io_context(), &executor_, [&](int fd) {
    struct stat st;
    if (::fstat(fd, &st) != 0) return errno;
    std::string seen(static_cast<size_t>(st.st_size), '\0');
    if (::pread(fd, seen.data(), seen.size(), 0) != static_cast<ssize_t>(seen.size())) return EIO;
    rng = rng * 1664525u + 1013904223u;  // a slow disk, of varying speed
    std::this_thread::sleep_for(std::chrono::microseconds((rng >> 8) % 700));
    if (::fsync(fd) != 0) return errno;
    std::lock_guard<std::mutex> lock(mu);
    ++fsyncs;
    if (seen.size() >= durable.size()) durable = std::move(seen);  // jobs run in order
    return 0;
  });
  absl::StatusOr<std::unique_ptr<File>> opened = disk_->Open("shared-log", OpenMode::kCreate);
  ASSERT_TRUE(opened.ok()) << opened.status();
  File* file = opened->get();
  ASSERT_TRUE(file->Sync().ok());  // inline (not in a fiber): the directory entry is durable
  int finished = 0;
  int loop_turns_while_syncing = 0;
  std::vector<std::string> failures;
  for (int w = 0; w < kWriters; ++w) {
    executor_.Spawn("writer", [&, w] {
      for (int r = 0; r < kRecordsEach; ++r) {
        const uint64_t offset = (static_cast<uint64_t>(r) * kWriters + w) * kRecordBytes;
        std::string record = absl::StrCat("w", w, "r", r, "|");
        record.resize(kRecordBytes, '.');
        if (absl::Status s = file->Write(offset, record); !s.ok()) {
          failures.push_back(s.ToString());
          break;
        }
        if (absl::Status s = file->Sync(); !s.ok()) {
          failures.push_back(s.ToString());
          break;
        }
        std::lock_guard<std::mutex> lock(mu);
        if (durable.size() < offset + kRecordBytes ||
            durable.compare(offset, kRecordBytes, record) != 0) {
          failures.push_back(absl::StrCat("Sync returned before ", record, " was durable"));
        }
      }
      ++finished;
    });
  }
  executor_.Spawn("ticker", [&] {
    while (finished < kWriters) {
      if (!executor_.Sleep(absl::Microseconds(100)).ok()) return;
      ++loop_turns_while_syncing;
    }
  });
  ASSERT_TRUE(loop_.RunUntil([&] { return finished == kWriters; }, kTestTimeout));
  EXPECT_TRUE(failures.empty()) << failures.size() << " failures, first: " << failures.front();
  EXPECT_EQ(disk_->sync_worker()->offloaded(), static_cast<uint64_t>(kWriters * kRecordsEach));
  std::lock_guard<std::mutex> lock(mu);
  EXPECT_EQ(fsyncs, kWriters * kRecordsEach);
  EXPECT_GT(loop_turns_while_syncing, 0);
}

TEST(PosixDiskCreateTest, RejectsAFileAsDataDirectory) {
  const char* tmp = std::getenv("TEST_TMPDIR");
  const std::string path = std::string(tmp != nullptr ? tmp : "/tmp") + "/not_a_dir";
  std::filesystem::remove_all(path);
  { std::FILE* f = std::fopen(path.c_str(), "w"); ASSERT_NE(f, nullptr); std::fclose(f); }
  EXPECT_FALSE(PosixDisk::Create(path).ok());
  EXPECT_FALSE(PosixDisk::Create(path + "/sub").ok());
}

}  // namespace
}  // namespace crema::transport
