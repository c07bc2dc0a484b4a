#include "transport/posix_disk.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <string>

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
