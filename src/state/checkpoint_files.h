// Reading a checkpoint directory that nobody vouches for.
//
// A checkpoint handed to verify-checkpoint or apply-checkpoint may have been
// tampered with: a symlink where a file belongs (pointing at a secret, or at
// a file of the same size and hash somewhere else), a FIFO that blocks
// whoever opens it, a device, a socket, files the manifest does not list.
// Everything here treats the directory as hostile: nothing is followed
// (O_NOFOLLOW at every path component), nothing blocks (O_NONBLOCK; a
// non-regular entry is refused before it is opened), and no more than the
// manifest's size is ever read from a file.
//
// Thread safety: the functions are reentrant; an OpenedFile is used by one
// thread at a time.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "base/file_system.h"
#include "base/fs.h"
#include "base/status.h"
#include "crypto/hash.h"
#include "state/checkpoint_manifest.h"

namespace ailee::state {

// A regular file opened without following symlinks, with its identity.
class OpenedFile {
 public:
  // Opens `rel` (relative, '/'-separated) under `dir`: no component may be a
  // symlink, the last one must be a regular file (checked with lstat before
  // opening, and with fstat on the descriptor), and its size must be
  // `expected_size`. kNotFound when absent; kDataLoss naming what is there
  // instead (a symlink, a FIFO, a device...) or the size difference.
  static Result<OpenedFile> Open(const std::string& dir, const std::string& rel, uint64_t expected_size);
  OpenedFile(OpenedFile&& other) noexcept;
  OpenedFile& operator=(OpenedFile&& other) noexcept;
  OpenedFile(const OpenedFile&) = delete;
  OpenedFile& operator=(const OpenedFile&) = delete;
  ~OpenedFile();

  // Reads exactly size() bytes from the start (never more), hashing them and,
  // when `copy_to` is given, appending them to it. kDataLoss when the file is
  // shorter than it was when opened.
  Result<crypto::Hash256> Hash(fs::WritableFile* copy_to = nullptr) const;
  // The whole file (size() bytes, never more): for small files only.
  Result<std::string> Read() const;
  // Hard-links this very file (the inode that was opened, not whatever the
  // name points at now) to `dst`. false when it could not be linked or the
  // name was swapped meanwhile (then nothing is left at `dst`). The link and
  // its removal go through `file_system` (nullptr: the default).
  bool LinkTo(const std::string& dst, fs::FileSystem* file_system = nullptr) const;

  uint64_t size() const { return size_; }
  const std::string& path() const { return path_; }

 private:
  OpenedFile(int fd, std::string path, uint64_t size, uint64_t dev, uint64_t ino)
      : fd_(fd), path_(std::move(path)), size_(size), dev_(dev), ino_(ino) {}
  int fd_ = -1;
  std::string path_;
  uint64_t size_ = 0;
  uint64_t dev_ = 0, ino_ = 0;
};

// Reads `dir`/AILEE-CHECKPOINT.json the same way (no symlink, no FIFO, at
// most 16 MiB) and decodes it. kNotFound when there is none.
Result<CheckpointManifest> ReadManifestNoFollow(const std::string& dir);

// Every entry of `dir` that is not a regular file listed in `m`, or a
// directory on the way to one, without following anything: one problem per
// entry, saying what it is ("a symbolic link", "a FIFO", "not in the
// manifest"...). Empty when the tree holds exactly the manifest's files (or
// fewer: missing files are for the per-file check to name).
Result<std::vector<std::string>> UnlistedEntries(const std::string& dir, const CheckpointManifest& m);

}  // namespace ailee::state
