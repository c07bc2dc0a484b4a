#include "transport/posix_disk.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cassert>
#include <filesystem>
#include <system_error>

#include "absl/strings/str_cat.h"

namespace crema::transport {
namespace {

absl::Status ErrnoStatus(int error, std::string_view op, const std::string& path) {
  std::string message = absl::StrCat(std::string(op), " ", path, ": ", strerror(error));
  switch (error) {
    case ENOENT:
      return absl::NotFoundError(message);
    case ENOSPC:
    case EDQUOT:
      return absl::ResourceExhaustedError(message);
    case EACCES:
    case EPERM:
    case EROFS:
      return absl::PermissionDeniedError(message);
    case ENOTDIR:
    case EISDIR:
    case EEXIST:
      return absl::FailedPreconditionError(message);
    default:
      return absl::InternalError(message);
  }
}

std::string ParentOf(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

absl::Status SyncDirectory(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(errno, "open directory", dir);
  const int rc = ::fsync(fd);
  const int error = errno;
  ::close(fd);
  if (rc != 0) return ErrnoStatus(error, "fsync directory", dir);
  return absl::OkStatus();
}

class PosixFile final : public File {
 public:
  PosixFile(int fd, std::string path, uint64_t size, bool created, SyncWorker* worker)
      : fd_(fd),
        path_(std::move(path)),
        size_(size),
        parent_needs_sync_(created),
        worker_(worker) {}
  ~PosixFile() override { ::close(fd_); }

  absl::StatusOr<std::string> Read(uint64_t offset, size_t length) override {
    assert(length <= kMaxReadBytes);
    if (length > kMaxReadBytes) return absl::InvalidArgumentError("read over kMaxReadBytes");
    std::string out(length, '\0');
    size_t done = 0;
    while (done < length) {
      const ssize_t n = ::pread(fd_, out.data() + done, length - done, offset + done);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return ErrnoStatus(errno, "pread", path_);
      if (n == 0) break;  // end of file
      done += static_cast<size_t>(n);
    }
    out.resize(done);
    return out;
  }

  absl::Status Write(uint64_t offset, std::string_view data) override {
    size_t done = 0;
    while (done < data.size()) {
      const ssize_t n = ::pwrite(fd_, data.data() + done, data.size() - done, offset + done);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        // A prefix may have landed (a short write before ENOSPC): the file is that much longer.
        size_ = std::max<uint64_t>(size_, offset + done);
        return ErrnoStatus(errno, "pwrite", path_);
      }
      done += static_cast<size_t>(n);
    }
    size_ = std::max<uint64_t>(size_, offset + data.size());
    return absl::OkStatus();
  }

  absl::Status Truncate(uint64_t size) override {
    if (::ftruncate(fd_, static_cast<off_t>(size)) != 0) {
      return ErrnoStatus(errno, "ftruncate", path_);
    }
    size_ = size;
    return absl::OkStatus();
  }

  absl::Status Sync() override {
    if (worker_ != nullptr && worker_->CanWait()) {
      if (absl::Status s = worker_->Sync(fd_, path_); !s.ok()) return s;
    } else if (::fsync(fd_) != 0) {
      return ErrnoStatus(errno, "fsync", path_);
    }
    if (parent_needs_sync_) {
      if (absl::Status s = SyncDirectory(ParentOf(path_)); !s.ok()) return s;
      parent_needs_sync_ = false;
    }
    return absl::OkStatus();
  }

  uint64_t Size() const override { return size_; }

 private:
  const int fd_;
  const std::string path_;
  uint64_t size_;           // as written through this handle (one writer per file)
  bool parent_needs_sync_;  // this handle created the file and has not synced its directory
  SyncWorker* worker_;      // null: fsync inline
};

}  // namespace

absl::Status ValidateFileName(std::string_view name) {
  auto bad = [&](std::string_view why) {
    return absl::InvalidArgumentError(
        absl::StrCat("bad file name '", std::string(name.substr(0, 64)), "': ", std::string(why)));
  };
  if (name.empty()) return bad("empty");
  if (name.size() > kMaxFileNameBytes) return bad("longer than kMaxFileNameBytes");
  if (name.front() == '/') return bad("absolute");
  if (name.find('\0') != std::string_view::npos) return bad("contains NUL");
  size_t start = 0;
  while (start <= name.size()) {
    size_t end = name.find('/', start);
    if (end == std::string_view::npos) end = name.size();
    const std::string_view part = name.substr(start, end - start);
    if (part.empty()) return bad("empty path component");
    if (part == "." || part == "..") return bad("'.' or '..' component");
    start = end + 1;
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<PosixDisk>> PosixDisk::Create(std::string data_dir) {
  while (data_dir.size() > 1 && data_dir.back() == '/') data_dir.pop_back();
  if (data_dir.empty()) return absl::InvalidArgumentError("empty data directory");
  std::error_code error;
  std::filesystem::create_directories(data_dir, error);
  if (error) {
    return absl::UnavailableError(
        absl::StrCat("cannot create data directory ", data_dir, ": ", error.message()));
  }
  if (!std::filesystem::is_directory(data_dir, error)) {
    return absl::FailedPreconditionError(absl::StrCat(data_dir, " is not a directory"));
  }
  if (::access(data_dir.c_str(), R_OK | W_OK | X_OK) != 0) {
    return ErrnoStatus(errno, "access", data_dir);
  }
  return std::unique_ptr<PosixDisk>(new PosixDisk(std::move(data_dir)));
}

void PosixDisk::OffloadSyncs(boost::asio::io_context* io, Executor* executor,
                             SyncWorker::SyncFn sync_fn) {
  assert(sync_worker_ == nullptr);
  sync_worker_ = std::make_unique<SyncWorker>(io, executor, std::move(sync_fn));
}

std::string PosixDisk::PathOf(std::string_view name) const {
  return absl::StrCat(data_dir_, "/", std::string(name));
}

absl::Status PosixDisk::MakeParents(std::string_view name) {
  std::string dir = data_dir_;
  size_t start = 0;
  for (size_t slash = name.find('/'); slash != std::string_view::npos;
       slash = name.find('/', start)) {
    const std::string parent = dir;
    dir = absl::StrCat(dir, "/", std::string(name.substr(start, slash - start)));
    start = slash + 1;
    if (::mkdir(dir.c_str(), 0755) == 0) {
      if (absl::Status s = SyncDirectory(parent); !s.ok()) return s;
    } else if (errno != EEXIST) {
      return ErrnoStatus(errno, "mkdir", dir);
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<File>> PosixDisk::Open(std::string_view name, OpenMode mode) {
  if (absl::Status s = ValidateFileName(name); !s.ok()) return s;
  const std::string path = PathOf(name);
  bool created = false;
  int fd = -1;
  if (mode == OpenMode::kCreate) {
    if (absl::Status s = MakeParents(name); !s.ok()) return s;
    fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    created = fd >= 0;
    if (fd < 0 && errno != EEXIST) return ErrnoStatus(errno, "create", path);
  }
  if (fd < 0) fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(errno, "open", path);
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    const int error = errno;
    ::close(fd);
    return ErrnoStatus(error, "fstat", path);
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return absl::FailedPreconditionError(absl::StrCat(path, " is not a regular file"));
  }
  return std::unique_ptr<File>(
      new PosixFile(fd, path, static_cast<uint64_t>(st.st_size), created, sync_worker_.get()));
}

absl::Status PosixDisk::Delete(std::string_view name) {
  if (absl::Status s = ValidateFileName(name); !s.ok()) return s;
  const std::string path = PathOf(name);
  if (::unlink(path.c_str()) != 0) return ErrnoStatus(errno, "unlink", path);
  return SyncDirectory(ParentOf(path));
}

absl::Status PosixDisk::Rename(std::string_view from, std::string_view to) {
  if (absl::Status s = ValidateFileName(from); !s.ok()) return s;
  if (absl::Status s = ValidateFileName(to); !s.ok()) return s;
  const std::string from_path = PathOf(from);
  const std::string to_path = PathOf(to);
  struct stat st;
  if (::stat(from_path.c_str(), &st) != 0) return ErrnoStatus(errno, "rename", from_path);
  if (!S_ISREG(st.st_mode)) {
    return absl::FailedPreconditionError(absl::StrCat(from_path, " is not a regular file"));
  }
  if (absl::Status s = MakeParents(to); !s.ok()) return s;
  if (::rename(from_path.c_str(), to_path.c_str()) != 0) {
    return ErrnoStatus(errno, "rename", from_path);
  }
  if (absl::Status s = SyncDirectory(ParentOf(to_path)); !s.ok()) return s;
  if (ParentOf(from_path) != ParentOf(to_path)) return SyncDirectory(ParentOf(from_path));
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> PosixDisk::List(std::string_view prefix) {
  std::vector<std::string> names;
  std::error_code error;
  const std::filesystem::path root(data_dir_);
  std::filesystem::recursive_directory_iterator it(root, error), end;
  for (; !error && it != end; it.increment(error)) {
    if (!it->is_regular_file(error) || error) continue;
    std::string name = std::filesystem::relative(it->path(), root, error).generic_string();
    if (error) break;
    if (name.compare(0, prefix.size(), prefix) != 0) continue;
    if (names.size() >= kMaxListedFiles) {
      return absl::ResourceExhaustedError("more than kMaxListedFiles files");
    }
    names.push_back(std::move(name));
  }
  if (error) {
    return absl::InternalError(absl::StrCat("listing ", data_dir_, ": ", error.message()));
  }
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace crema::transport
