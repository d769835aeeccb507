#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <filesystem>

#include "base/file_system.h"
#include "base/fs.h"

namespace ailee::fs {
namespace {

// EFBIG (file size limit) is as final as a full disk.
Status WriteError(std::string_view op, const std::string& path, int err) {
  if (err == EFBIG) return ResourceExhausted(std::string(op) + " " + path + ": file too large / no space");
  return ErrnoStatus(op, path, err);
}

class PosixWritableFile final : public WritableFile {
 public:
  PosixWritableFile(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  ~PosixWritableFile() override {
    if (fd_ >= 0) ::close(fd_);
  }

  Status Append(std::string_view data) override {
    RETURN_IF_ERROR(Open());
    RETURN_IF_ERROR(WriteAt(fd_, data, size_, path_));
    size_ += data.size();
    return Status::Ok();
  }

  Status AppendFrom(int src_fd, uint64_t length) override {
    RETURN_IF_ERROR(Open());
    while (length > 0) {
      loff_t out_off = static_cast<loff_t>(size_);
      ssize_t n = ::copy_file_range(src_fd, nullptr, fd_, &out_off, length, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return WriteError("copy to", path_, errno);
      if (n == 0) return DataLoss("copy to " + path_ + ": the source ended " + std::to_string(length) + " bytes early");
      size_ += static_cast<uint64_t>(n);
      length -= static_cast<uint64_t>(n);
    }
    return Status::Ok();
  }

  Status Sync() override {
    RETURN_IF_ERROR(Open());
    if (::fdatasync(fd_) != 0) return WriteError("fsync", path_, errno);
    return Status::Ok();
  }

  Status SetAttributes(const FileAttributes& a) override {
    RETURN_IF_ERROR(Open());
    if (a.uid && ::fchown(fd_, *a.uid, a.gid) != 0) return ErrnoStatus("chown", path_, errno);
    if (::fchmod(fd_, static_cast<mode_t>(a.mode)) != 0) return ErrnoStatus("chmod", path_, errno);
    if (a.mtime_ns) {
      timespec times[2];
      times[0].tv_sec = times[1].tv_sec = *a.mtime_ns / 1000000000;
      times[0].tv_nsec = times[1].tv_nsec = *a.mtime_ns % 1000000000;
      if (::futimens(fd_, times) != 0) return ErrnoStatus("utimens", path_, errno);
    }
    return Status::Ok();
  }

  Status Close() override {
    if (fd_ < 0) return Status::Ok();
    int rc = ::close(fd_);
    fd_ = -1;
    if (rc != 0) return WriteError("close", path_, errno);
    return Status::Ok();
  }

  uint64_t size() const override { return size_; }
  const std::string& path() const override { return path_; }

 private:
  Status Open() const {
    if (fd_ < 0) return FailedPrecondition("write to closed file " + path_);
    return Status::Ok();
  }

  int fd_;
  std::string path_;
  uint64_t size_ = 0;
};

std::atomic<FileSystem*> installed{nullptr};

FileSystem* Posix() {
  static PosixFileSystem posix;
  return &posix;
}

}  // namespace

FileSystem* FileSystem::Default() {
  FileSystem* fs = installed.load(std::memory_order_acquire);
  return fs ? fs : Posix();
}

FileSystem* FileSystem::SetDefault(FileSystem* fs) {
  FileSystem* before = installed.exchange(fs, std::memory_order_acq_rel);
  return before ? before : Posix();
}

Result<std::unique_ptr<WritableFile>> PosixFileSystem::NewWritableFile(const std::string& path, unsigned mode,
                                                                       bool exclusive) {
  int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (exclusive ? O_EXCL : O_TRUNC);
  int fd = ::open(path.c_str(), flags, static_cast<mode_t>(mode));
  if (fd < 0) return WriteError("create", path, errno);
  return std::unique_ptr<WritableFile>(new PosixWritableFile(fd, path));
}

Status PosixFileSystem::Rename(const std::string& from, const std::string& to) {
  if (::rename(from.c_str(), to.c_str()) != 0) return ErrnoStatus("rename " + from + " to", to, errno);
  return Status::Ok();
}

Result<bool> PosixFileSystem::RenameExchange(const std::string& a, const std::string& b) {
  if (::renameat2(AT_FDCWD, a.c_str(), AT_FDCWD, b.c_str(), RENAME_EXCHANGE) == 0) return true;
  if (errno == EINVAL || errno == ENOSYS) return false;
  return ErrnoStatus("exchange " + a + " with", b, errno);
}

Status PosixFileSystem::Link(const std::string& from, const std::string& to) {
  if (::linkat(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), AT_SYMLINK_FOLLOW) != 0) {
    return ErrnoStatus("link " + from + " to", to, errno);
  }
  return Status::Ok();
}

Status PosixFileSystem::Symlink(const std::string& target, const std::string& path) {
  if (::symlink(target.c_str(), path.c_str()) != 0) return WriteError("symlink", path, errno);
  return Status::Ok();
}

Status PosixFileSystem::Unlink(const std::string& path) {
  if (::unlink(path.c_str()) != 0) return ErrnoStatus("unlink", path, errno);
  return Status::Ok();
}

Status PosixFileSystem::Mkdir(const std::string& path, unsigned mode, bool exist_ok) {
  if (::mkdir(path.c_str(), static_cast<mode_t>(mode)) == 0) return Status::Ok();
  int e = errno;
  if (e == EEXIST && exist_ok) return IsDirectory(path) ? Status::Ok() : ErrnoStatus("mkdir", path, ENOTDIR);
  return WriteError("mkdir", path, e);
}

Status PosixFileSystem::SyncDir(const std::string& dir) {
  int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("open dir", dir, errno);
  int rc = ::fsync(fd);
  int e = errno;
  ::close(fd);
  if (rc != 0) return ErrnoStatus("fsync dir", dir, e);
  return Status::Ok();
}

Status PosixFileSystem::RemoveAll(const std::string& path) {
  std::error_code ec;
  std::filesystem::remove_all(path, ec);
  if (ec) return ErrnoStatus("remove", path, ec.value());
  return Status::Ok();
}

}  // namespace ailee::fs
