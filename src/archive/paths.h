// Which entries of an archive or snapshot may be materialized under a target
// directory. Pure: no filesystem access.
//
// The rules (docs/config-backup.md, "Safety"): an entry path must be
// relative, non-empty, without NUL, "." or ".." components; no two entries
// may name the same path; no entry may live below a path another entry makes
// a file or symlink; symlinks must be relative and resolve inside the target
// (without passing through another symlink of the same archive); hard links
// must name a regular file of the same archive; device nodes, fifos and
// sockets are refused. Each refusal names the entry and why.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace ailee::archive {

struct ArchiveEntry {
  enum class Type { kFile, kDir, kSymlink, kHardlink, kOther };
  std::string path;         // as found in the archive / snapshot
  Type type = Type::kFile;
  std::string link_target;  // symlinks and hard links
  std::string other_kind;   // kOther: "character device", "fifo", ...
};

struct EntryRefusal {
  std::string path;
  std::string reason;
  std::string ToString() const { return "refused entry '" + path + "': " + reason; }
};

// "a/./b/" -> "a/b". Refuses absolute paths, "..", NUL and empty paths;
// the reason is returned as kInvalidArgument.
Result<std::string> CleanEntryPath(std::string_view path);

// Every refusal for `entries` (empty: all may be written). Paths are judged
// after CleanEntryPath, so "a" and "./a" collide.
std::vector<EntryRefusal> CheckEntries(const std::vector<ArchiveEntry>& entries);

// One status listing every refusal (kInvalidArgument), or Ok.
Status RefusalsToStatus(const std::vector<EntryRefusal>& refusals, std::string_view what);

}  // namespace ailee::archive
