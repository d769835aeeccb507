#include "base/fs.h"

#include "base/file_system.h"
#include "base/scratch.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <random>

namespace ailee::fs {
namespace {

constexpr size_t kDirectAlignment = 4096;
// Below this, a page-cache copy costs less than two fcntl calls and an
// uncached device round trip.
constexpr size_t kDirectMinSize = 256 << 10;

// EFBIG (file size limit) is as final as a full disk.
Status WriteErrno(const std::string& path, int err) {
  if (err == EFBIG) return ResourceExhausted("write " + path + ": " + std::strerror(err));
  return ErrnoStatus("write", path, err);
}

Status WriteAll(int fd, std::string_view data, const std::string& path) {
  const char* p = data.data();
  size_t left = data.size();
  while (left > 0) {
    ssize_t n = ::write(fd, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      return WriteErrno(path, errno);
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
  return Status::Ok();
}

Status PwriteAll(int fd, const char* p, size_t left, uint64_t offset, const std::string& path) {
  while (left > 0) {
    ssize_t n = ::pwrite(fd, p, left, static_cast<off_t>(offset));
    if (n < 0) {
      if (errno == EINTR) continue;
      return WriteErrno(path, errno);
    }
    p += n;
    offset += static_cast<uint64_t>(n);
    left -= static_cast<size_t>(n);
  }
  return Status::Ok();
}

bool SetDirect(int fd, bool on) {
  int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0) return false;
  int want = on ? (flags | O_DIRECT) : (flags & ~O_DIRECT);
  return want == flags || ::fcntl(fd, F_SETFL, want) == 0;
}

// The file is created with the final mode (not 0600 first) so a reader that
// sees it renamed into place sees the right mode; SetAttributes makes the
// mode independent of the umask.
Status WriteTemp(FileSystem& fsys, const std::string& tmp, std::string_view data, unsigned mode) {
  ASSIGN_OR_RETURN(auto file, fsys.NewWritableFile(tmp, mode, true));
  Status st = file->Append(data);
  if (st.ok()) st = file->Sync();
  FileAttributes attributes;
  attributes.mode = mode;
  if (st.ok()) st = file->SetAttributes(attributes);
  Status closed = file->Close();
  if (st.ok()) st = closed;
  if (!st.ok()) (void)fsys.Unlink(tmp);
  return st;
}

}  // namespace

Result<std::string> ReadFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("open", path, errno);
  std::string out;
  struct stat sb {};
  if (::fstat(fd, &sb) == 0 && sb.st_size > 0) out.reserve(static_cast<size_t>(sb.st_size));
  char buf[1 << 16];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      int e = errno;
      ::close(fd);
      return ErrnoStatus("read", path, e);
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

Status WriteAt(int fd, std::string_view data, uint64_t offset, const std::string& path) {
  const char* p = data.data();
  size_t left = data.size();
  const bool aligned = reinterpret_cast<uintptr_t>(p) % kDirectAlignment == 0 && offset % kDirectAlignment == 0;
  if (aligned && left >= kDirectMinSize && SetDirect(fd, true)) {
    size_t direct = left / kDirectAlignment * kDirectAlignment;
    while (direct > 0) {
      ssize_t n = ::pwrite(fd, p, direct, static_cast<off_t>(offset));
      if (n < 0 && errno == EINTR) continue;
      // EINVAL: this filesystem (or this alignment) does not do direct I/O;
      // an odd short write would misalign the rest. Either way: buffered.
      if (n < 0 && errno == EINVAL) break;
      if (n < 0) {
        int e = errno;
        SetDirect(fd, false);
        return WriteErrno(path, e);
      }
      p += n;
      offset += static_cast<uint64_t>(n);
      left -= static_cast<size_t>(n);
      direct -= static_cast<size_t>(n);
      if (static_cast<size_t>(n) % kDirectAlignment != 0) break;
    }
    if (!SetDirect(fd, false)) return ErrnoStatus("fcntl", path, errno);
  }
  return PwriteAll(fd, p, left, offset, path);
}

std::string TempSiblingName(const std::string& path) {
  static std::atomic<uint64_t> counter{0};
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return path + ".tmp." + OwnerTag() + "." + std::to_string(counter++) + "." + std::to_string(rng() % 1000000);
}

Status WriteFileAtomic(const std::string& path, std::string_view data, unsigned mode, FileSystem* file_system) {
  FileSystem& fsys = *FileSystem::Or(file_system);
  std::string tmp = TempSiblingName(path);
  RETURN_IF_ERROR(WriteTemp(fsys, tmp, data, mode));
  if (Status st = fsys.Rename(tmp, path); !st.ok()) {
    (void)fsys.Unlink(tmp);
    return st;
  }
  return fsys.SyncDir(Dirname(path));
}

Status WriteFileExclusive(const std::string& path, std::string_view data, unsigned mode, FileSystem* file_system) {
  FileSystem& fsys = *FileSystem::Or(file_system);
  std::string tmp = TempSiblingName(path);
  RETURN_IF_ERROR(WriteTemp(fsys, tmp, data, mode));
  Status linked = fsys.Link(tmp, path);
  (void)fsys.Unlink(tmp);
  RETURN_IF_ERROR(linked);
  return fsys.SyncDir(Dirname(path));
}

Status FsyncDir(const std::string& dir, FileSystem* file_system) { return FileSystem::Or(file_system)->SyncDir(dir); }

Status FsyncFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("open", path, errno);
  int rc = ::fsync(fd);
  int e = errno;
  ::close(fd);
  if (rc != 0) return ErrnoStatus("fsync", path, e);
  return Status::Ok();
}

Status MakeDirs(const std::string& dir, unsigned mode, FileSystem* file_system) {
  if (IsDirectory(dir)) return Status::Ok();
  const std::string parent = Dirname(dir);
  if (parent != dir && !IsDirectory(parent)) RETURN_IF_ERROR(MakeDirs(parent, 0755, file_system));
  return FileSystem::Or(file_system)->Mkdir(dir, mode, true);
}

Status RemoveAll(const std::string& path, FileSystem* file_system) {
  return FileSystem::Or(file_system)->RemoveAll(path);
}

void RemoveAbandoned(const std::string& dir, std::string_view prefix, FileSystem* file_system) {
  // Owner encoding and judgement: base/scratch.h.
  auto names = ListDir(dir);
  if (!names.ok()) return;
  for (const auto& name : *names) {
    if (name.compare(0, prefix.size(), prefix) != 0) continue;
    int64_t pid = 0;
    uint64_t start = 0;
    if (!ParseOwnerTag(std::string_view(name).substr(prefix.size()), &pid, &start)) continue;
    if (!OwnerGone(pid, start)) continue;  // ours, alive, or not ours to judge
    (void)RemoveAll(JoinPath(dir, name), file_system);
  }
}

Status RenameDurable(const std::string& from, const std::string& to, FileSystem* file_system) {
  FileSystem& fsys = *FileSystem::Or(file_system);
  RETURN_IF_ERROR(fsys.Rename(from, to));
  return fsys.SyncDir(Dirname(to));
}

bool Exists(const std::string& path) {
  struct stat sb {};
  return ::lstat(path.c_str(), &sb) == 0;
}

bool IsDirectory(const std::string& path) {
  struct stat sb {};
  return ::stat(path.c_str(), &sb) == 0 && S_ISDIR(sb.st_mode);
}

Result<uint64_t> FileSize(const std::string& path) {
  struct stat sb {};
  if (::stat(path.c_str(), &sb) != 0) return ErrnoStatus("stat", path, errno);
  return static_cast<uint64_t>(sb.st_size);
}

Result<std::vector<std::string>> ListDir(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (!d) return ErrnoStatus("opendir", dir, errno);
  std::vector<std::string> names;
  while (dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") names.push_back(std::move(n));
  }
  ::closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}

Result<uint64_t> TreeSize(const std::string& dir) {
  std::error_code ec;
  uint64_t total = 0;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_regular_file(ec)) total += it->file_size(ec);
  }
  if (ec) return ErrnoStatus("walk", dir, ec.value());
  return total;
}

std::string JoinPath(std::string_view a, std::string_view b) {
  if (a.empty()) return std::string(b);
  if (!b.empty() && b.front() == '/') return std::string(b);
  std::string out(a);
  if (out.back() != '/') out.push_back('/');
  out.append(b);
  return out;
}

std::string Dirname(const std::string& path) {
  auto pos = path.find_last_of('/');
  if (pos == std::string::npos) return ".";
  if (pos == 0) return "/";
  return path.substr(0, pos);
}

std::string Basename(const std::string& path) {
  auto pos = path.find_last_of('/');
  return pos == std::string::npos ? path : path.substr(pos + 1);
}

Result<FileWriter> FileWriter::Create(const std::string& path, unsigned mode, bool exclusive) {
  int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (exclusive ? O_EXCL : O_TRUNC);
  int fd = ::open(path.c_str(), flags, mode);
  if (fd < 0) return ErrnoStatus("create", path, errno);
  return FileWriter(fd, path);
}

FileWriter::FileWriter(FileWriter&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), path_(std::move(other.path_)), size_(other.size_) {}

FileWriter& FileWriter::operator=(FileWriter&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
    path_ = std::move(other.path_);
    size_ = other.size_;
  }
  return *this;
}

FileWriter::~FileWriter() {
  if (fd_ >= 0) ::close(fd_);
}

Status FileWriter::Append(std::string_view data) {
  if (fd_ < 0) return FailedPrecondition("append to closed file " + path_);
  RETURN_IF_ERROR(WriteAll(fd_, data, path_));
  size_ += data.size();
  return Status::Ok();
}

Status FileWriter::Sync() {
  if (fd_ < 0) return FailedPrecondition("sync of closed file " + path_);
  if (::fdatasync(fd_) != 0) return ErrnoStatus("fsync", path_, errno);
  return Status::Ok();
}

Status FileWriter::Close() {
  if (fd_ < 0) return Status::Ok();
  int rc = ::close(fd_);
  fd_ = -1;
  if (rc != 0) return ErrnoStatus("close", path_, errno);
  return Status::Ok();
}

}  // namespace ailee::fs
