// Internal to src/audit: an open audit log file holding an flock, with the
// few positioned reads and writes the log needs. Closing releases the lock.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "base/status.h"

namespace ailee::audit {

class LockedFile {
 public:
  // open(2) with `flags` (O_CLOEXEC added), then flock(lock_op), retrying EINTR.
  static Result<LockedFile> Open(const std::string& path, int flags, unsigned mode, int lock_op);
  LockedFile(LockedFile&& other) noexcept;
  LockedFile& operator=(LockedFile&&) = delete;
  LockedFile(const LockedFile&) = delete;
  ~LockedFile();

  Result<uint64_t> Size() const;
  // The open file's device and inode: which file it is, whatever its name now.
  Result<std::pair<uint64_t, uint64_t>> DeviceAndInode() const;
  // Gives this file the owner and group of `model` when they differ (only
  // root may; a no-op for anyone else).
  Status OwnLike(const LockedFile& model);
  // Gives the file at `path` (not following a symlink there) this file's
  // owner and group when they differ (only root may; a no-op for anyone else).
  Status GiveOwnerTo(const std::string& path) const;
  // Offset just past the last '\n' before `size` (0 when there is none): the
  // part of the file made of complete lines.
  Result<uint64_t> CleanSize(uint64_t size) const;
  Result<std::string> ReadRange(uint64_t offset, uint64_t length) const;
  // The last line of [0, clean_size), without its '\n'; clean_size > 0.
  Result<std::string> LastLine(uint64_t clean_size) const;
  // ftruncate + fdatasync.
  Status Truncate(uint64_t size);
  // Exactly one write(2) call; anything short of `data` is an error.
  Status WriteOnce(std::string_view data);
  Status DataSync();
  const std::string& path() const { return path_; }

 private:
  LockedFile(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  int fd_ = -1;
  std::string path_;
};

}  // namespace ailee::audit
