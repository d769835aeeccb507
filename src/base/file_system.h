// FileSystem: the local filesystem as an interface, for the operations that
// make a write durable (LevelDB's Env, for files only).
//
// Everything that must survive a crash or a power loss (the local object
// store, restored trees, fs::WriteFileAtomic) creates, writes, syncs,
// renames, links and removes through a FileSystem, so a test can substitute
// FaultInjectionFileSystem (base/fault_injection_file_system.h) and lose
// power after any one of those calls. Reads, listings and stat calls are not
// part of the seam: the fault-injecting implementation works on a real
// directory, so they see what a real filesystem holds; metadata that is no
// durability question (chmod of a directory, utimes) stays with its caller.
//
// Durability follows POSIX, not the kindest filesystem: file data is durable
// after WritableFile::Sync, a directory entry (create, rename, link, unlink,
// mkdir, symlink) after SyncDir of the directory that holds it.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"

namespace ailee::fs {

struct FileAttributes {
  unsigned mode = 0644;
  std::optional<uid_t> uid;  // with gid: chown (needs root); nothing when empty
  gid_t gid = 0;
  std::optional<int64_t> mtime_ns;  // also the atime; untouched when empty
};

// A file open for writing at its end. Nothing is promised durable before
// Sync() returns.
class WritableFile {
 public:
  virtual ~WritableFile() = default;
  // Large data from a 4 KiB-aligned buffer bypasses the page cache (fs::WriteAt).
  // EFBIG and ENOSPC come back as kResourceExhausted.
  virtual Status Append(std::string_view data) = 0;
  // Appends `length` bytes read from `src_fd` at its current offset
  // (copy_file_range: the kernel copies, or shares extents where it can).
  // kDataLoss when the source ends early.
  virtual Status AppendFrom(int src_fd, uint64_t length) = 0;
  // fdatasync: the data written so far (and the size) are durable.
  virtual Status Sync() = 0;
  virtual Status SetAttributes(const FileAttributes& attributes) = 0;
  virtual Status Close() = 0;
  virtual uint64_t size() const = 0;
  virtual const std::string& path() const = 0;
};

class FileSystem {
 public:
  virtual ~FileSystem() = default;

  // The process-wide filesystem: POSIX unless a test installed another
  // (SetDefault). Callers that take a FileSystem* treat nullptr as this.
  static FileSystem* Default();
  // Installs `fs` as Default() (nullptr: back to POSIX); returns the previous one.
  static FileSystem* SetDefault(FileSystem* fs);
  static FileSystem* Or(FileSystem* fs) { return fs ? fs : Default(); }

  // exclusive: fails with kAlreadyExists if `path` exists; else truncates.
  virtual Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path, unsigned mode,
                                                                bool exclusive) = 0;
  virtual Status Rename(const std::string& from, const std::string& to) = 0;
  // Swaps two existing entries atomically (renameat2 RENAME_EXCHANGE). False
  // when this filesystem cannot (EINVAL, ENOSYS): nothing was changed.
  virtual Result<bool> RenameExchange(const std::string& a, const std::string& b) = 0;
  // A new name for the file `from` (link(2), following `from` if it is a
  // symlink, so "/proc/self/fd/N" links an open file). kAlreadyExists if `to` exists.
  virtual Status Link(const std::string& from, const std::string& to) = 0;
  virtual Status Symlink(const std::string& target, const std::string& path) = 0;
  // A missing file is kNotFound.
  virtual Status Unlink(const std::string& path) = 0;
  // One directory; kAlreadyExists when `path` exists, unless exist_ok and it
  // is a directory.
  virtual Status Mkdir(const std::string& path, unsigned mode, bool exist_ok) = 0;
  // fsync of a directory: the entries in it are durable.
  virtual Status SyncDir(const std::string& dir) = 0;
  // A file or a directory tree; a missing path is not an error.
  virtual Status RemoveAll(const std::string& path) = 0;
};

// The real one.
class PosixFileSystem final : public FileSystem {
 public:
  Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path, unsigned mode,
                                                        bool exclusive) override;
  Status Rename(const std::string& from, const std::string& to) override;
  Result<bool> RenameExchange(const std::string& a, const std::string& b) override;
  Status Link(const std::string& from, const std::string& to) override;
  Status Symlink(const std::string& target, const std::string& path) override;
  Status Unlink(const std::string& path) override;
  Status Mkdir(const std::string& path, unsigned mode, bool exist_ok) override;
  Status SyncDir(const std::string& dir) override;
  Status RemoveAll(const std::string& path) override;
};

}  // namespace ailee::fs
