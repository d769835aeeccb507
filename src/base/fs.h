// Small, crash-safe filesystem primitives. Every durable write in the project
// goes through WriteFileAtomic or a FileWriter, so "kill -9 leaves either the
// old or the new file" is proven in one place. The functions that change the
// filesystem take an optional FileSystem (base/file_system.h; nullptr: the
// process-wide default), through which a test can inject a power loss.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace ailee::fs {

class FileSystem;

Result<std::string> ReadFile(const std::string& path);

// Writes `data` to `path` through a temporary file in the same directory:
// write, fsync, rename over `path`, fsync the directory. A crash at any point
// leaves either the old content or the new one, never a mix. Large data in a
// 4 KiB-aligned buffer (AlignedBuffer) is written around the page cache, as
// WriteAt does.
Status WriteFileAtomic(const std::string& path, std::string_view data, unsigned mode = 0644,
                       FileSystem* file_system = nullptr);

// Like WriteFileAtomic, but fails with kAlreadyExists instead of replacing.
// Uses link(2) so two racing writers cannot both succeed.
Status WriteFileExclusive(const std::string& path, std::string_view data, unsigned mode = 0644,
                          FileSystem* file_system = nullptr);

// pwrite(2) of all of `data` at `offset`. When the buffer address and the
// offset are 4 KiB-aligned and the filesystem allows it, the aligned part of
// a large write bypasses the page cache (O_DIRECT): bulk data that nobody
// reads back soon neither pays for page-cache copies nor evicts what the node
// keeps cached. Durability is unchanged: callers still fsync. `fd` must not
// be shared with other threads while this runs (it toggles the O_DIRECT flag
// of the open file). EFBIG and ENOSPC come back as kResourceExhausted.
Status WriteAt(int fd, std::string_view data, uint64_t offset, const std::string& path);

Status FsyncDir(const std::string& dir, FileSystem* file_system = nullptr);
Status FsyncFile(const std::string& path);
// Creates `dir` with `mode` (less the umask) and any missing parents with 0755.
Status MakeDirs(const std::string& dir, unsigned mode = 0755, FileSystem* file_system = nullptr);
// Removes a file or a directory tree; a missing path is not an error.
Status RemoveAll(const std::string& path, FileSystem* file_system = nullptr);
// Rename that fsyncs the destination's directory afterwards.
Status RenameDurable(const std::string& from, const std::string& to, FileSystem* file_system = nullptr);
bool Exists(const std::string& path);
bool IsDirectory(const std::string& path);
Result<uint64_t> FileSize(const std::string& path);
// Names in `dir` (not "." or ".."), sorted.
Result<std::vector<std::string>> ListDir(const std::string& dir);
// Total size of regular files below `dir`.
Result<uint64_t> TreeSize(const std::string& dir);
std::string JoinPath(std::string_view a, std::string_view b);
std::string Dirname(const std::string& path);
std::string Basename(const std::string& path);
// A fresh, unique temporary name next to `path` (same filesystem, so rename works).
std::string TempSiblingName(const std::string& path);
// Removes the entries of `dir` named "<prefix><pid>..." whose process is gone:
// the scratch of a run that was killed. Entries of live processes (and of
// this one) stay. Best effort: errors are ignored.
void RemoveAbandoned(const std::string& dir, std::string_view prefix, FileSystem* file_system = nullptr);

// Appends to a file with explicit durability: nothing is promised until Sync().
class FileWriter {
 public:
  static Result<FileWriter> Create(const std::string& path, unsigned mode = 0644, bool exclusive = true);
  FileWriter(FileWriter&& other) noexcept;
  FileWriter& operator=(FileWriter&& other) noexcept;
  FileWriter(const FileWriter&) = delete;
  FileWriter& operator=(const FileWriter&) = delete;
  ~FileWriter();

  Status Append(std::string_view data);
  Status Sync();
  Status Close();
  uint64_t size() const { return size_; }
  const std::string& path() const { return path_; }

 private:
  FileWriter(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  int fd_ = -1;
  std::string path_;
  uint64_t size_ = 0;
};

}  // namespace ailee::fs
