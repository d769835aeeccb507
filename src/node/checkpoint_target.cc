#include "node/checkpoint_target.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "base/fs.h"
#include "base/hint.h"
#include "base/user_name.h"

namespace ailee::node {

Status CheckCheckpointTarget(const std::string& path) {
  const std::string parent = fs::Dirname(path);
  const std::string me = UserName(::geteuid());
  struct stat st {};
  if (::stat(parent.c_str(), &st) != 0 && errno != EACCES) {
    return ErrnoStatus("checkpoint target's directory", parent, errno);
  }
  if (::access(parent.c_str(), W_OK | X_OK) == 0) return Status::Ok();
  const int err = errno;
  char mode[8];
  std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
  std::string why = err == EROFS ? "it is read-only for the node (a read-only mount, or outside the unit's ReadWritePaths)"
                                 : std::strerror(err);
  if (err != EROFS && st.st_mode != 0) {
    why += " (owner " + UserName(st.st_uid) + ", mode " + mode + ")";
  }
  return WithHint(PermissionDenied("the node runs as user " + me + " and cannot create the checkpoint " + path +
                                   " in " + parent + ": " + why),
                  "run ailee-cli as the node's user (sudo -u " + me +
                      " ailee-cli ...) so that the checkpoint goes where that user can write, or give a target in a "
                      "directory " + me + " can write (docs/operations.md, \"Permission model\")");
}

}  // namespace ailee::node
