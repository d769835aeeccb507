#include "audit/log_file.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

namespace ailee::audit {

Result<LockedFile> LockedFile::Open(const std::string& path, int flags, unsigned mode, int lock_op) {
  // O_NONBLOCK: a FIFO put in the file's place must not hang every appender
  // in open(2); it is refused below like any other non-regular file.
  int fd = ::open(path.c_str(), flags | O_CLOEXEC | O_NONBLOCK, mode);
  if (fd < 0 && errno == ELOOP && (flags & O_NOFOLLOW) != 0) {
    return FailedPrecondition("audit log file " + path +
                              " is a symbolic link; refusing to follow it (whoever may write the log's directory "
                              "could point it at any file): replace it by a regular file");
  }
  if (fd < 0) return ErrnoStatus("open audit log", path, errno);
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    return ErrnoStatus("stat", path, err);
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return FailedPrecondition("audit log file " + path + " is not a regular file (a FIFO, device or directory); "
                              "replace it by a regular file");
  }
  int fl = ::fcntl(fd, F_GETFL);
  if (fl < 0 || ::fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) != 0) {
    int err = errno;
    ::close(fd);
    return ErrnoStatus("fcntl", path, err);
  }
  while (::flock(fd, lock_op) != 0) {
    if (errno == EINTR) continue;
    int err = errno;
    ::close(fd);
    return ErrnoStatus("lock audit log", path, err);
  }
  return LockedFile(fd, path);
}

LockedFile::LockedFile(LockedFile&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), path_(std::move(other.path_)) {}

LockedFile::~LockedFile() {
  if (fd_ >= 0) ::close(fd_);
}

Result<uint64_t> LockedFile::Size() const {
  struct stat sb {};
  if (::fstat(fd_, &sb) != 0) return ErrnoStatus("stat", path_, errno);
  return static_cast<uint64_t>(sb.st_size);
}

Result<std::pair<uint64_t, uint64_t>> LockedFile::DeviceAndInode() const {
  struct stat sb {};
  if (::fstat(fd_, &sb) != 0) return ErrnoStatus("stat", path_, errno);
  return std::pair<uint64_t, uint64_t>(static_cast<uint64_t>(sb.st_dev), static_cast<uint64_t>(sb.st_ino));
}

Status LockedFile::OwnLike(const LockedFile& model) {
  if (::geteuid() != 0) return Status::Ok();
  struct stat mine {}, theirs {};
  if (::fstat(fd_, &mine) != 0) return ErrnoStatus("stat", path_, errno);
  if (::fstat(model.fd_, &theirs) != 0) return ErrnoStatus("stat", model.path_, errno);
  if (mine.st_uid == theirs.st_uid && mine.st_gid == theirs.st_gid) return Status::Ok();
  // A hard link is some other file too (/etc/shadow linked in by the log
  // directory's owner): root must not give that away.
  if (mine.st_nlink != 1) {
    return FailedPrecondition(path_ + " has " + std::to_string(mine.st_nlink) +
                              " names (a hard link to another file?); not changing its owner: replace it");
  }
  if (::fchown(fd_, theirs.st_uid, theirs.st_gid) != 0) return ErrnoStatus("chown", path_, errno);
  return Status::Ok();
}

Status LockedFile::GiveOwnerTo(const std::string& path) const {
  if (::geteuid() != 0) return Status::Ok();
  struct stat mine {}, theirs {};
  if (::fstat(fd_, &mine) != 0) return ErrnoStatus("stat", path_, errno);
  if (::lstat(path.c_str(), &theirs) != 0) return ErrnoStatus("stat", path, errno);
  if (mine.st_uid == theirs.st_uid && mine.st_gid == theirs.st_gid) return Status::Ok();
  if (::lchown(path.c_str(), mine.st_uid, mine.st_gid) != 0) return ErrnoStatus("chown", path, errno);
  return Status::Ok();
}

Result<std::string> LockedFile::ReadRange(uint64_t offset, uint64_t length) const {
  std::string out(length, '\0');
  uint64_t got = 0;
  while (got < length) {
    ssize_t n = ::pread(fd_, out.data() + got, length - got, static_cast<off_t>(offset + got));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoStatus("read", path_, errno);
    if (n == 0) return DataLoss("audit log " + path_ + " shrank while locked");
    got += static_cast<uint64_t>(n);
  }
  return out;
}

Result<uint64_t> LockedFile::CleanSize(uint64_t size) const {
  constexpr uint64_t kChunk = 4096;
  uint64_t end = size;
  while (end > 0) {
    uint64_t start = end > kChunk ? end - kChunk : 0;
    ASSIGN_OR_RETURN(std::string chunk, ReadRange(start, end - start));
    size_t nl = chunk.rfind('\n');
    if (nl != std::string::npos) return start + nl + 1;
    end = start;
  }
  return 0;
}

Result<std::string> LockedFile::LastLine(uint64_t clean_size) const {
  ASSIGN_OR_RETURN(uint64_t start, CleanSize(clean_size - 1));
  return ReadRange(start, clean_size - 1 - start);
}

Status LockedFile::Truncate(uint64_t size) {
  if (::ftruncate(fd_, static_cast<off_t>(size)) != 0) return ErrnoStatus("truncate", path_, errno);
  return DataSync();
}

Status LockedFile::WriteOnce(std::string_view data) {
  ssize_t n;
  do {
    n = ::write(fd_, data.data(), data.size());
  } while (n < 0 && errno == EINTR);
  if (n < 0) return ErrnoStatus("write", path_, errno);
  if (static_cast<size_t>(n) != data.size()) {
    return ResourceExhausted("short write to " + path_ + ": " + std::to_string(n) + " of " +
                             std::to_string(data.size()) + " bytes (disk full?)");
  }
  return Status::Ok();
}

Status LockedFile::DataSync() {
  if (::fdatasync(fd_) != 0) return ErrnoStatus("fdatasync", path_, errno);
  return Status::Ok();
}

}  // namespace ailee::audit
