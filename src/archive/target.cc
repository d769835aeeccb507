#include "archive/target.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

#include "archive/paths.h"
#include "base/fs.h"
#include "base/scratch.h"

namespace ailee::archive {
namespace {

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() { if (fd_ >= 0) ::close(fd_); }
  int get() const { return fd_; }
 private:
  int fd_;
};

// Next to the file it becomes; the owner in the name (base/scratch.h) tells
// a killed run's leftover from a live one's.
std::string TempName(const std::string& base) { return fs::ScratchName(".ailee-tmp-" + base.substr(0, 100) + "-"); }

std::string ParentRel(const std::string& rel) {
  auto p = rel.rfind('/');
  return p == std::string::npos ? "" : rel.substr(0, p);
}

Status WriteAll(int fd, std::string_view data, const std::string& what) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus("write", what, errno);
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Status::Ok();
}

}  // namespace

Result<SafeTarget> SafeTarget::Open(const std::string& dir, bool create) {
  if (create) RETURN_IF_ERROR(fs::MakeDirs(dir));
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("open target", dir, errno);
  return SafeTarget(fd, dir);
}

SafeTarget::SafeTarget(SafeTarget&& o) noexcept : fd_(o.fd_), dir_(std::move(o.dir_)), dirty_(std::move(o.dirty_)) { o.fd_ = -1; }
SafeTarget::~SafeTarget() { if (fd_ >= 0) ::close(fd_); }

Result<std::pair<int, std::string>> SafeTarget::OpenParent(const std::string& rel, bool create) {
  auto clean = CleanEntryPath(rel);
  if (!clean.ok()) return InvalidArgument("refusing '" + rel + "': " + clean.status().message());
  std::string path = *clean;
  int cur = ::dup(fd_);
  if (cur < 0) return ErrnoStatus("dup", dir_, errno);
  size_t start = 0;
  std::string walked;
  for (;;) {
    size_t slash = path.find('/', start);
    if (slash == std::string::npos) return std::make_pair(cur, path.substr(start));
    std::string comp = path.substr(start, slash - start);
    walked += (walked.empty() ? "" : "/") + comp;
    int next = ::openat(cur, comp.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (next < 0 && errno == ENOENT && create) {
      if (::mkdirat(cur, comp.c_str(), 0755) != 0 && errno != EEXIST) {
        int e = errno;
        ::close(cur);
        return ErrnoStatus("mkdir", dir_ + "/" + walked, e);
      }
      next = ::openat(cur, comp.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    }
    int e = errno;
    ::close(cur);
    if (next < 0) {
      if (e == ELOOP || e == ENOTDIR) {
        return InvalidArgument("refusing '" + rel + "': '" + walked + "' in " + dir_ + " is a symlink or not a directory");
      }
      return ErrnoStatus("open", dir_ + "/" + walked, e);
    }
    cur = next;
    start = slash + 1;
  }
}

Status SafeTarget::MakeDir(const std::string& rel, const FileAttrs& attrs) {
  ASSIGN_OR_RETURN(auto parent, OpenParent(rel, true));
  Fd pfd(parent.first);
  if (::mkdirat(pfd.get(), parent.second.c_str(), attrs.mode & 07777) != 0 && errno != EEXIST) {
    return ErrnoStatus("mkdir", dir_ + "/" + rel, errno);
  }
  int d = ::openat(pfd.get(), parent.second.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (d < 0) return InvalidArgument("refusing '" + rel + "': exists in " + dir_ + " and is not a directory");
  Fd dfd(d);
  ::fchmod(d, attrs.mode & 07777);
  if (attrs.set_owner && ::geteuid() == 0) (void)::fchown(d, attrs.uid, attrs.gid);
  dirty_.push_back(ParentRel(rel));
  return Status::Ok();
}

Status SafeTarget::WriteFile(const std::string& rel, std::string_view data, const FileAttrs& attrs) {
  ASSIGN_OR_RETURN(auto parent, OpenParent(rel, true));
  Fd pfd(parent.first);
  std::string tmp = TempName(parent.second);
  int fd = ::openat(pfd.get(), tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) return ErrnoStatus("create", dir_ + "/" + rel, errno);
  Status st = WriteAll(fd, data, dir_ + "/" + rel);
  if (st.ok() && attrs.set_owner && ::geteuid() == 0 && ::fchown(fd, attrs.uid, attrs.gid) != 0) {
    st = ErrnoStatus("chown", dir_ + "/" + rel, errno);
  }
  if (st.ok() && ::fchmod(fd, attrs.mode & 07777) != 0) st = ErrnoStatus("chmod", dir_ + "/" + rel, errno);
  if (st.ok() && attrs.mtime_ns >= 0) {
    timespec t[2] = {{attrs.mtime_ns / 1000000000, attrs.mtime_ns % 1000000000},
                     {attrs.mtime_ns / 1000000000, attrs.mtime_ns % 1000000000}};
    ::futimens(fd, t);
  }
  if (st.ok() && ::fsync(fd) != 0) st = ErrnoStatus("fsync", dir_ + "/" + rel, errno);
  ::close(fd);
  if (st.ok() && ::renameat(pfd.get(), tmp.c_str(), pfd.get(), parent.second.c_str()) != 0) {
    st = ErrnoStatus("rename into place", dir_ + "/" + rel, errno);
  }
  if (!st.ok()) {
    ::unlinkat(pfd.get(), tmp.c_str(), 0);
    return st;
  }
  dirty_.push_back(ParentRel(rel));
  return Status::Ok();
}

Status SafeTarget::Symlink(const std::string& rel, const std::string& link_target) {
  ASSIGN_OR_RETURN(auto parent, OpenParent(rel, true));
  Fd pfd(parent.first);
  std::string tmp = TempName(parent.second);
  if (::symlinkat(link_target.c_str(), pfd.get(), tmp.c_str()) != 0) return ErrnoStatus("symlink", dir_ + "/" + rel, errno);
  if (::renameat(pfd.get(), tmp.c_str(), pfd.get(), parent.second.c_str()) != 0) {
    int e = errno;
    ::unlinkat(pfd.get(), tmp.c_str(), 0);
    return ErrnoStatus("rename into place", dir_ + "/" + rel, e);
  }
  dirty_.push_back(ParentRel(rel));
  return Status::Ok();
}

Status SafeTarget::Hardlink(const std::string& rel, const std::string& existing_rel) {
  ASSIGN_OR_RETURN(auto from, OpenParent(existing_rel, false));
  Fd ffd(from.first);
  ASSIGN_OR_RETURN(auto to, OpenParent(rel, true));
  Fd tfd(to.first);
  ::unlinkat(tfd.get(), to.second.c_str(), 0);
  // flags 0: linkat never follows a symlink at the source.
  if (::linkat(ffd.get(), from.second.c_str(), tfd.get(), to.second.c_str(), 0) != 0) {
    return ErrnoStatus("link", dir_ + "/" + rel, errno);
  }
  dirty_.push_back(ParentRel(rel));
  return Status::Ok();
}

Status SafeTarget::LinkAside(const std::string& rel, const std::string& aside_rel) {
  ASSIGN_OR_RETURN(auto from, OpenParent(rel, false));
  Fd ffd(from.first);
  ASSIGN_OR_RETURN(auto to, OpenParent(aside_rel, true));
  Fd tfd(to.first);
  if (::linkat(ffd.get(), from.second.c_str(), tfd.get(), to.second.c_str(), 0) != 0) {
    return ErrnoStatus("keep previous file", dir_ + "/" + rel, errno);
  }
  dirty_.push_back(ParentRel(aside_rel));
  return Status::Ok();
}

Status SafeTarget::Rename(const std::string& from_rel, const std::string& to_rel) {
  ASSIGN_OR_RETURN(auto from, OpenParent(from_rel, false));
  Fd ffd(from.first);
  ASSIGN_OR_RETURN(auto to, OpenParent(to_rel, true));
  Fd tfd(to.first);
  if (::renameat(ffd.get(), from.second.c_str(), tfd.get(), to.second.c_str()) != 0) {
    return ErrnoStatus("rename", dir_ + "/" + from_rel, errno);
  }
  dirty_.push_back(ParentRel(to_rel));
  dirty_.push_back(ParentRel(from_rel));
  return Status::Ok();
}

Status SafeTarget::Unlink(const std::string& rel) {
  auto parent = OpenParent(rel, false);
  if (!parent.ok()) return Status::Ok();  // parent missing: nothing to remove
  Fd pfd(parent->first);
  if (::unlinkat(pfd.get(), parent->second.c_str(), 0) != 0 && errno != ENOENT) {
    return ErrnoStatus("unlink", dir_ + "/" + rel, errno);
  }
  dirty_.push_back(ParentRel(rel));
  return Status::Ok();
}

Result<std::optional<ExistingFile>> SafeTarget::Stat(const std::string& rel) {
  auto parent = OpenParent(rel, false);
  if (!parent.ok()) {
    // A missing parent means the file is absent; a symlinked parent is an error.
    if (parent.status().code() == StatusCode::kNotFound) return std::optional<ExistingFile>();
    return parent.status();
  }
  Fd pfd(parent->first);
  struct stat st;
  if (::fstatat(pfd.get(), parent->second.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno == ENOENT) return std::optional<ExistingFile>();
    return ErrnoStatus("stat", dir_ + "/" + rel, errno);
  }
  ExistingFile f;
  f.is_dir = S_ISDIR(st.st_mode);
  f.is_file = S_ISREG(st.st_mode);
  f.is_symlink = S_ISLNK(st.st_mode);
  f.mode = st.st_mode & 07777;
  f.uid = st.st_uid;
  f.gid = st.st_gid;
  f.size = static_cast<uint64_t>(st.st_size);
  return std::optional<ExistingFile>(f);
}

Result<std::string> SafeTarget::ReadFile(const std::string& rel, uint64_t limit) {
  ASSIGN_OR_RETURN(auto parent, OpenParent(rel, false));
  Fd pfd(parent.first);
  int fd = ::openat(pfd.get(), parent.second.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("open", dir_ + "/" + rel, errno);
  Fd f(fd);
  std::string out;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus("read", dir_ + "/" + rel, errno);
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
    if (out.size() > limit) return ResourceExhausted(dir_ + "/" + rel + " is larger than " + std::to_string(limit) + " bytes");
  }
  return out;
}

Status SafeTarget::Sync() {
  std::sort(dirty_.begin(), dirty_.end());
  dirty_.erase(std::unique(dirty_.begin(), dirty_.end()), dirty_.end());
  for (const auto& d : dirty_) {
    int fd;
    if (d.empty()) {
      fd = ::dup(fd_);
    } else {
      auto parent = OpenParent(d + "/x", false);
      if (!parent.ok()) continue;  // removed meanwhile
      fd = parent->first;
    }
    if (fd < 0) continue;
    int rc = ::fsync(fd);
    int e = errno;
    ::close(fd);
    if (rc != 0) return ErrnoStatus("fsync directory", dir_ + "/" + d, e);
  }
  dirty_.clear();
  return Status::Ok();
}

}  // namespace ailee::archive
