#include "state/data_dir.h"

#include <fcntl.h>
#include <unistd.h>

#include "base/fs.h"
#include "base/hint.h"

namespace ailee::state {

Status EnsureNotInUse(const std::string& dir) {
  std::string lock = fs::JoinPath(dir, "LOCK");
  int fd = ::open(lock.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) return Status::Ok();
  struct flock fl {};
  fl.l_type = F_WRLCK;
  fl.l_whence = SEEK_SET;
  int rc = ::fcntl(fd, F_GETLK, &fl);
  ::close(fd);
  if (rc == 0 && fl.l_type != F_UNLCK)
    return WithHint(FailedPrecondition(dir + " is in use by a running node (pid " + std::to_string(fl.l_pid) + ")"), "stop the node first (systemctl stop ailee-node), then rerun");
  return Status::Ok();
}

bool IsImmutableDatabaseFile(std::string_view path) {
  return path.size() > 4 && path.compare(path.size() - 4, 4, ".sst") == 0;
}

bool HoldsDatabase(const std::string& dir) { return fs::Exists(fs::JoinPath(dir, "CURRENT")); }

}  // namespace ailee::state
