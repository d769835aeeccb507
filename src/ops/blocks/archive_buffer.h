// The archiver's local buffer: sealed block segments waiting for the
// repository, one file per segment in <dir>/<node_id>/, named like the
// segment ("<first:020>-<last:020>-<sha256>.seg") and holding its stored
// bytes, so a file is uploaded exactly as it was sealed. Files are written
// with fs::WriteFileAtomic (a crash leaves a segment whole or absent; other
// names are leftovers of a killed write and are ignored).
// Also status.json: what the running archiver last reported (its alarm).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "repo/block_archive.h"

namespace ailee::ops {

class ArchiveBuffer {
 public:
  ArchiveBuffer(std::string dir, std::string node_id);
  ~ArchiveBuffer();
  ArchiveBuffer(const ArchiveBuffer&) = delete;
  ArchiveBuffer& operator=(const ArchiveBuffer&) = delete;
  // Held by the running archiver (flock on <dir>/archiver.lock, released by
  // the kernel on kill -9): a second archiver for the node with this buffer
  // would seal its own ranges from the tail it read at start and write
  // segments overlapping the first one's. kFailedPrecondition when held.
  Status LockForArchiver();

  Status Put(const repo::SealedBlockSegment& sealed);
  // Buffered segments in height order (their names; bytes via Read).
  Result<std::vector<repo::BlockSegmentName>> List() const;
  Result<repo::SealedBlockSegment> Read(const repo::BlockSegmentName& name) const;
  Status Remove(const repo::BlockSegmentName& name);
  // Total bytes of the buffered segments.
  Result<uint64_t> Bytes() const;

  Status WriteStatus(const nlohmann::json& status);
  nlohmann::json ReadStatus() const;  // {} when absent or unreadable

  const std::string& dir() const { return dir_; }

 private:
  std::string FileOf(const repo::BlockSegmentName& name) const;
  std::string dir_;  // <buffer_dir>/<node_id>
  std::string node_id_;
  int lock_fd_ = -1;
};

}  // namespace ailee::ops
