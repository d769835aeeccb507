#include "state/checkpoint_files.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <set>
#include <utility>

namespace ailee::state {
namespace {

// A manifest lists one line per file: thousands of SSTs fit in far less.
constexpr uint64_t kMaxManifestBytes = 16ull << 20;

std::string KindOf(mode_t mode) {
  if (S_ISLNK(mode)) return "a symbolic link";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISREG(mode)) return "a regular file";
  return "an entry of unknown type";
}

class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() { if (fd_ >= 0) ::close(fd_); }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }
  void reset(int fd) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_;
};

std::vector<std::string> SplitPath(const std::string& rel) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= rel.size()) {
    size_t end = rel.find('/', start);
    if (end == std::string::npos) end = rel.size();
    parts.push_back(rel.substr(start, end - start));
    start = end + 1;
  }
  return parts;
}

// Collects the problems under directory `fd` (path `rel` from the root).
Status Walk(int fd, const std::string& root, const std::string& rel, const std::set<std::string>& files,
            const std::set<std::string>& dirs, std::vector<std::string>* problems) {
  int dup = ::dup(fd);
  if (dup < 0) return ErrnoStatus("dup", fs::JoinPath(root, rel), errno);
  DIR* d = ::fdopendir(dup);
  if (!d) {
    int e = errno;
    ::close(dup);
    return ErrnoStatus("opendir", fs::JoinPath(root, rel), e);
  }
  std::vector<std::pair<std::string, mode_t>> entries;
  while (dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    struct stat sb {};
    if (::fstatat(fd, name.c_str(), &sb, AT_SYMLINK_NOFOLLOW) != 0) continue;  // vanished meanwhile
    entries.emplace_back(std::move(name), sb.st_mode);
  }
  ::closedir(d);
  for (const auto& [name, mode] : entries) {
    const std::string path = rel.empty() ? name : rel + "/" + name;
    if (rel.empty() && name == kCheckpointManifestName) {
      if (!S_ISREG(mode)) problems->push_back("entry " + path + ": " + KindOf(mode) + " where the manifest belongs");
      continue;
    }
    if (S_ISREG(mode)) {
      if (!files.count(path)) problems->push_back("file " + path + ": not in the manifest (added after the checkpoint was made)");
    } else if (S_ISDIR(mode) && dirs.count(path)) {
      Fd sub(::openat(fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (sub.get() < 0) return ErrnoStatus("open directory", fs::JoinPath(root, path), errno);
      RETURN_IF_ERROR(Walk(sub.get(), root, path, files, dirs, problems));
    } else if (S_ISDIR(mode)) {
      problems->push_back("directory " + path + ": not in the manifest");
    } else {
      problems->push_back("entry " + path + ": " + KindOf(mode) + ", not a regular file (a checkpoint holds only the "
                          "regular files its manifest lists; it was not followed or opened)");
    }
  }
  return Status::Ok();
}

}  // namespace

Result<OpenedFile> OpenedFile::Open(const std::string& dir, const std::string& rel, uint64_t expected_size) {
  const std::string full = fs::JoinPath(dir, rel);
  Fd at(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (at.get() < 0) return ErrnoStatus("open directory", dir, errno);
  auto parts = SplitPath(rel);
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    Fd sub(::openat(at.get(), parts[i].c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (sub.get() < 0) {
      int e = errno;
      if (e == ENOENT) return NotFound(full + " is missing");
      return DataLoss(full + ": a component of the path (" + parts[i] + ") is not a plain directory: " + std::strerror(e));
    }
    at.reset(sub.release());
  }
  const std::string& name = parts.back();
  struct stat lsb {};
  if (::fstatat(at.get(), name.c_str(), &lsb, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno == ENOENT) return NotFound(full + " is missing");
    return ErrnoStatus("stat", full, errno);
  }
  if (!S_ISREG(lsb.st_mode)) return DataLoss(full + " is " + KindOf(lsb.st_mode) + ", not a regular file; refused, not followed");
  // O_NONBLOCK: had the name been swapped for a FIFO since the lstat, the
  // open still returns at once, and the fstat below refuses it.
  int fd = ::openat(at.get(), name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    int e = errno;
    if (e == ELOOP) return DataLoss(full + " is a symbolic link, not a regular file; refused, not followed");
    if (e == ENOENT) return NotFound(full + " is missing");
    return ErrnoStatus("open", full, e);
  }
  Fd owned(fd);
  struct stat sb {};
  if (::fstat(fd, &sb) != 0) return ErrnoStatus("fstat", full, errno);
  if (!S_ISREG(sb.st_mode)) return DataLoss(full + " is " + KindOf(sb.st_mode) + ", not a regular file; refused");
  if (static_cast<uint64_t>(sb.st_size) != expected_size) {
    return DataLoss("file " + rel + ": size " + std::to_string(sb.st_size) + ", manifest says " + std::to_string(expected_size));
  }
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  return OpenedFile(owned.release(), full, expected_size, static_cast<uint64_t>(sb.st_dev), static_cast<uint64_t>(sb.st_ino));
}

OpenedFile::OpenedFile(OpenedFile&& o) noexcept
    : fd_(std::exchange(o.fd_, -1)), path_(std::move(o.path_)), size_(o.size_), dev_(o.dev_), ino_(o.ino_) {}

OpenedFile& OpenedFile::operator=(OpenedFile&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(o.fd_, -1);
    path_ = std::move(o.path_);
    size_ = o.size_;
    dev_ = o.dev_;
    ino_ = o.ino_;
  }
  return *this;
}

OpenedFile::~OpenedFile() {
  if (fd_ >= 0) ::close(fd_);
}

Result<crypto::Hash256> OpenedFile::Hash(fs::WritableFile* copy_to) const {
  crypto::Sha256Stream sha;
  std::string buf(1 << 20, '\0');
  uint64_t off = 0;
  while (off < size_) {
    const size_t want = static_cast<size_t>(std::min<uint64_t>(buf.size(), size_ - off));
    ssize_t n = ::pread(fd_, buf.data(), want, static_cast<off_t>(off));
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus("read", path_, errno);
    }
    if (n == 0) {
      return DataLoss(path_ + " ended at byte " + std::to_string(off) + " while being read; the manifest says " +
                      std::to_string(size_) + " (the file changed underneath)");
    }
    std::string_view chunk(buf.data(), static_cast<size_t>(n));
    sha.Update(chunk);
    if (copy_to) RETURN_IF_ERROR(copy_to->Append(chunk));
    off += static_cast<uint64_t>(n);
  }
  return sha.Finish();
}

Result<std::string> OpenedFile::Read() const {
  std::string data(size_, '\0');
  uint64_t off = 0;
  while (off < size_) {
    ssize_t n = ::pread(fd_, data.data() + off, size_ - off, static_cast<off_t>(off));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoStatus("read", path_, errno);
    if (n == 0) return DataLoss(path_ + " shrank while being read (the file changed underneath)");
    off += static_cast<uint64_t>(n);
  }
  return data;
}

bool OpenedFile::LinkTo(const std::string& dst, fs::FileSystem* file_system) const {
  // Linking /proc/self/fd/N links the inode that was opened, whatever the
  // name holds now; the inode check below also catches a swap where /proc
  // is not mounted (then the link fails and the caller copies).
  fs::FileSystem* fsys = fs::FileSystem::Or(file_system);
  if (!fsys->Link("/proc/self/fd/" + std::to_string(fd_), dst).ok()) return false;
  struct stat sb {};
  if (::lstat(dst.c_str(), &sb) == 0 && S_ISREG(sb.st_mode) && static_cast<uint64_t>(sb.st_dev) == dev_ &&
      static_cast<uint64_t>(sb.st_ino) == ino_)
    return true;
  (void)fsys->Unlink(dst);
  return false;
}

Result<CheckpointManifest> ReadManifestNoFollow(const std::string& dir) {
  const std::string path = fs::JoinPath(dir, kCheckpointManifestName);
  struct stat sb {};
  if (::lstat(path.c_str(), &sb) != 0) {
    if (errno == ENOENT) {
      return NotFound(dir + " is not a checkpoint: " + kCheckpointManifestName +
                      " is missing (incomplete or not created by ailee-cli)");
    }
    return ErrnoStatus("stat", path, errno);
  }
  if (!S_ISREG(sb.st_mode)) {
    return DataLoss(path + " is " + KindOf(sb.st_mode) + ", not a regular file; refused, not followed (the checkpoint "
                    "was tampered with: use another copy)");
  }
  if (static_cast<uint64_t>(sb.st_size) > kMaxManifestBytes) {
    return DataLoss(path + " has " + std::to_string(sb.st_size) + " bytes, more than a manifest can (" +
                    std::to_string(kMaxManifestBytes) + "); refused");
  }
  ASSIGN_OR_RETURN(OpenedFile f, OpenedFile::Open(dir, kCheckpointManifestName, static_cast<uint64_t>(sb.st_size)));
  ASSIGN_OR_RETURN(std::string data, f.Read());
  return DecodeManifest(data, path);
}

Result<std::vector<std::string>> UnlistedEntries(const std::string& dir, const CheckpointManifest& m) {
  std::set<std::string> files, dirs;
  for (const auto& f : m.files) {
    files.insert(f.path);
    for (size_t pos = f.path.find('/'); pos != std::string::npos; pos = f.path.find('/', pos + 1))
      dirs.insert(f.path.substr(0, pos));
  }
  Fd root(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (root.get() < 0) return ErrnoStatus("open directory", dir, errno);
  std::vector<std::string> problems;
  RETURN_IF_ERROR(Walk(root.get(), dir, "", files, dirs, &problems));
  std::sort(problems.begin(), problems.end());
  return problems;
}

}  // namespace ailee::state
