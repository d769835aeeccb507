#include "ops/drill/shred.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "base/fs.h"
#include "base/scratch.h"

namespace ailee::ops {

Status ShredFile(const std::string& path) {
  struct stat st {};
  if (lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return Status::Ok();
    return ErrnoStatus("shred", path, errno);
  }
  if (S_ISDIR(st.st_mode)) return Status::Ok();
  if (S_ISREG(st.st_mode)) {
    // A 0400 key file: writable again for the overwrite (as its owner).
    if (chmod(path.c_str(), 0600) != 0) return ErrnoStatus("shred (chmod)", path, errno);
    const int fd = open(path.c_str(), O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return ErrnoStatus("shred (open)", path, errno);
    const std::string zeros(static_cast<size_t>(st.st_size), '\0');
    Status written = fs::WriteAt(fd, zeros, 0, path);
    const bool synced = written.ok() && fsync(fd) == 0;
    close(fd);
    RETURN_IF_ERROR(written);
    if (!synced) return ErrnoStatus("shred (fsync)", path, errno);
  }
  if (unlink(path.c_str()) != 0 && errno != ENOENT) return ErrnoStatus("shred (unlink)", path, errno);
  return Status::Ok();
}

Status ShredTree(const std::string& dir) {
  if (dir.empty()) return Status::Ok();
  if (!fs::IsDirectory(dir)) return ShredFile(dir);
  auto names = fs::ListDir(dir);
  for (const auto& n : names.ok() ? *names : std::vector<std::string>{}) {
    const std::string p = fs::JoinPath(dir, n);
    struct stat st {};
    const bool subdir = lstat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
    RETURN_IF_ERROR(subdir ? ShredTree(p) : ShredFile(p));
  }
  return fs::RemoveAll(dir);
}

void ShredAbandoned(const std::string& parent, std::string_view prefix) {
  auto names = fs::ListDir(parent);
  if (!names.ok()) return;
  for (const auto& n : *names) {
    if (n.compare(0, prefix.size(), prefix) != 0) continue;
    int64_t pid = 0;
    uint64_t start = 0;
    if (!fs::ParseOwnerTag(std::string_view(n).substr(prefix.size()), &pid, &start) || !fs::OwnerGone(pid, start)) continue;
    (void)ShredTree(fs::JoinPath(parent, n));
  }
}

}  // namespace ailee::ops
