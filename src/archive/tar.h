// Plain .tar.gz archives through libarchive (pax format, gzip): written for
// operators (`tar xzf` reads them) and read back with every entry checked by
// CheckEntries before anything is written.
#pragma once

#include <string>
#include <vector>

#include "archive/paths.h"
#include "archive/target.h"
#include "base/status.h"

namespace ailee::fs {
class FileSystem;
}  // namespace ailee::fs

namespace ailee::archive {

struct TarMember {
  ArchiveEntry entry;  // path, type, link target
  FileAttrs attrs;     // mode, owner, mtime
  std::string data;    // regular files only
};

// Writes `members` in order to `output` through a temporary sibling: write,
// fsync, rename, fsync the directory, each through `file_system` (nullptr:
// the default). Mode 0600 (it may hold ciphertext).
Status WriteTarGz(const std::string& output, const std::vector<TarMember>& members,
                  fs::FileSystem* file_system = nullptr);

// Reads every member into memory (config archives are small): kResourceExhausted
// beyond `max_bytes` of content, kDataLoss for a damaged archive. Entries of
// unsupported types come back as kOther, so CheckEntries can name them.
Result<std::vector<TarMember>> ReadTarGz(const std::string& path, uint64_t max_bytes = 256ull << 20);

struct ExtractStats {
  size_t files = 0, dirs = 0, symlinks = 0, hardlinks = 0;
};

// Checks all members (CheckEntries) and refuses the whole archive, writing
// nothing, when any is unsafe; then writes directories, files (atomically),
// hard links and last symlinks below `target`. Owners are restored only as root.
Result<ExtractStats> ExtractMembers(const std::vector<TarMember>& members, SafeTarget& target);

}  // namespace ailee::archive
