// SafeTarget: writes below one directory and never outside it.
//
// Every path is relative to the target and checked with CleanEntryPath; it is
// reached by openat() one component at a time with O_NOFOLLOW|O_DIRECTORY, so
// a symlink already in the target (or planted concurrently) is never
// followed: the operation fails naming the component. Files are written
// atomically: a temporary name in the same directory, write, fsync, rename,
// and the directory is fsynced by Sync(). A crash leaves the old or the new
// file, plus at most a ".ailee-tmp-*" leftover.
//
// Not thread-safe; holds one directory fd.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace ailee::archive {

struct FileAttrs {
  uint32_t mode = 0644;
  int64_t mtime_ns = -1;      // -1: leave as written
  bool set_owner = false;     // chown (only effective as root)
  uint32_t uid = 0;
  uint32_t gid = 0;
};

struct ExistingFile {
  bool is_dir = false;
  bool is_file = false;
  bool is_symlink = false;
  uint32_t mode = 0;
  uint32_t uid = 0;
  uint32_t gid = 0;
  uint64_t size = 0;
};

class SafeTarget {
 public:
  // Opens (creating with 0755 when `create`) the target directory.
  static Result<SafeTarget> Open(const std::string& dir, bool create);
  SafeTarget(SafeTarget&& o) noexcept;
  SafeTarget& operator=(SafeTarget&&) = delete;
  ~SafeTarget();

  const std::string& dir() const { return dir_; }

  // Creates the directory and missing parents (parents 0755); an existing
  // directory gets `attrs.mode` too.
  Status MakeDir(const std::string& rel, const FileAttrs& attrs);
  // Atomic replace (see above). Creates missing parents.
  Status WriteFile(const std::string& rel, std::string_view data, const FileAttrs& attrs);
  Status Symlink(const std::string& rel, const std::string& link_target);
  Status Hardlink(const std::string& rel, const std::string& existing_rel);
  // Hard-links `rel` to `aside_rel` (same directory expected): the old file
  // stays reachable until Unlink(aside_rel).
  Status LinkAside(const std::string& rel, const std::string& aside_rel);
  Status Rename(const std::string& from_rel, const std::string& to_rel);
  Status Unlink(const std::string& rel);  // missing is fine

  // nullopt when absent. Does not follow a final symlink.
  Result<std::optional<ExistingFile>> Stat(const std::string& rel);
  // A regular file's content (refuses symlinks), at most `limit` bytes.
  Result<std::string> ReadFile(const std::string& rel, uint64_t limit = 64ull << 20);

  // fsyncs every directory written to since the last Sync.
  Status Sync();

 private:
  SafeTarget(int fd, std::string dir) : fd_(fd), dir_(std::move(dir)) {}
  // fd of the parent directory of `rel` (caller closes), and the last component.
  Result<std::pair<int, std::string>> OpenParent(const std::string& rel, bool create);
  int fd_ = -1;
  std::string dir_;
  std::vector<std::string> dirty_;
};

}  // namespace ailee::archive
