// Snapshots: snapshots/<id>, one encrypted JSON document per backup (see
// docs/repository-format.md for the fields). A snapshot is written only
// after every pack and index file it needs is durable, so a snapshot that
// exists is always complete.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "repo/ids.h"
#include "repo/repository.h"

namespace ailee::repo {

struct FileEntry {
  enum class Type { kFile, kDir, kSymlink };
  std::string path;  // relative, '/'-separated, no "." or ".."
  Type type = Type::kFile;
  uint32_t mode = 0;  // permission bits (07777)
  uint32_t uid = 0;
  uint32_t gid = 0;
  int64_t mtime_ns = 0;
  uint64_t size = 0;
  // The file's identity where it was read (files only; see
  // docs/repository-format.md, section 8): an incremental backup reuses a
  // parent's entry without reading the file only when all of these match.
  uint64_t dev = 0;
  uint64_t inode = 0;
  int64_t btime_ns = 0;     // birth time; 0 where the filesystem has none
  int64_t ctime_ns = 0;
  std::string identity;     // from BackupOptions::file_identity, e.g. an SST's unique id
  std::string sha256;       // hex, whole-file plaintext hash (files only)
  std::string link_target;  // symlinks only
  std::vector<Id> chunks;   // blob ids in file order (files only)
};

// The version of the file identity fields above that this build writes and
// trusts. A parent snapshot with another (older snapshots: none, read as 0)
// lends no unchanged files: its files are read again.
inline constexpr int kFileIdentityVersion = 1;

struct Snapshot {
  Id id{};                  // set by Load/Save; not stored in the document
  int file_identity = 0;    // kFileIdentityVersion when its files carry identities
  int64_t time_ms = 0;
  std::string host;
  std::string user;
  std::string kind;         // "state", "config", "logs", ...
  std::vector<std::string> tags;
  std::string parent;       // hex id or empty
  nlohmann::json meta = nlohmann::json::object();
  std::vector<FileEntry> files;  // sorted by path; directories before their contents
  uint64_t total_bytes = 0;      // sum of file sizes

  std::string id_hex() const { return IdHex(id); }
};

Result<Id> SaveSnapshot(Repository& repo, const Snapshot& snapshot);
Result<Snapshot> LoadSnapshot(Repository& repo, const Id& id);

// Every snapshot, oldest first (by time, then id). A damaged snapshot (one
// that fails its authentication or parse: kDataLoss) does not fail the call:
// it is left out of `snapshots` and listed with its error in `damaged`. A
// snapshot forgotten while listing is skipped; any other error fails the call.
struct SnapshotListing {
  std::vector<Snapshot> snapshots;
  std::vector<std::pair<Id, Status>> damaged;
};
Result<SnapshotListing> ListSnapshots(Repository& repo);

// Resolves "latest" (newest, optionally of one kind/host), a full id or a
// unique id prefix. kNotFound / kInvalidArgument (ambiguous prefix).
struct SnapshotFilter {
  std::string kind;  // empty: any
  std::string host;  // empty: any
};
Result<Snapshot> FindSnapshot(Repository& repo, std::string_view ref, const SnapshotFilter& filter = {});

}  // namespace ailee::repo
