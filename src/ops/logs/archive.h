// Log archival (runbook section 4): rotated logs move into the repository
// as "logs" snapshots; local copies stay online for a while, the archive for
// years (docs/log-archival.md).
//
// ArchiveLogs, in order:
//   1. picks the rotated logs in `dir` (top level only): "*.log.N",
//      "*.log.N.gz", "*.log-DATE[.gz]" and "*.gz"; never a live "*.log".
//      The audit log's rotated segments are among them: its chain continues
//      from one into the next (audit/continuation.h), `audit verify`
//      checks it across segments restored from here, and the live file and
//      its sidecars (audit.log.lock, .head) are not rotated names;
//   2. stores them with BackupTree (kind "logs", zstd-compressed by the
//      repository, parent: the host's latest logs snapshot, so files
//      archived before are not read again and identical content is stored
//      once);
//   3. reads the snapshot back from the repository and removes each local
//      copy older than keep_local_ms (by mtime, against the repository's
//      Clock) only if its current SHA-256 equals the archived one;
//   4. forgets this host's logs snapshots older than keep_archive_ms
//      (repo::Forget with keep_within; `repo prune` frees their data).
// Crash safety: a snapshot exists only once its data is durable (BackupTree),
// and no local file is removed before step 3 has seen it in the repository.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "config/config.h"
#include "repo/backup.h"
#include "repo/repository.h"
#include "repo/retention.h"

namespace ailee::ops {

inline constexpr const char* kLogsSnapshotKind = "logs";
inline constexpr const char* kLogsFormat = "ailee-logs/1";
inline constexpr int64_t kDayMs = 86400000;
inline constexpr int64_t kDefaultKeepLocalMs = 90 * kDayMs;
inline constexpr int64_t kDefaultKeepArchiveMs = (7 * 365 + 2) * kDayMs;  // 7 years, leap days included

// True for rotated log names (step 1), false for live logs.
bool IsRotatedLogName(const std::string& name);

struct LogArchiveOptions {
  std::string dir = "/var/log/ailee";
  int64_t keep_local_ms = kDefaultKeepLocalMs;  // < 0: never remove local copies
  int64_t keep_archive_ms = kDefaultKeepArchiveMs;  // <= 0: never forget
  std::string host;                             // empty: this host
  std::vector<std::string> tags;
  std::string audit_head;
  bool dry_run = false;                         // list what would happen, change nothing
};

struct LogArchiveResult {
  std::string snapshot_id;                 // empty when there was nothing to archive (or dry run)
  repo::BackupStats stats;
  std::vector<std::string> archived;       // file names in the snapshot
  std::vector<std::string> removed_local;  // local copies removed
  std::vector<std::string> kept_changed;   // older than keep_local but changed since archiving: kept
  std::vector<repo::ForgetDecision> forgotten;  // snapshots removed by retention
};

// The options a node's config implies (cfg may be empty): dir is the
// directory of logging.log_file, else /var/log/ailee. `dir` overrides when
// set. The audit log's rotations are archived when it lives in that
// directory (the default /var/log/ailee/audit.log does).
LogArchiveOptions LogArchiveOptionsFor(const std::optional<config::NodeConfig>& cfg, const std::string& dir);

Result<LogArchiveResult> ArchiveLogs(repo::Repository& repo, const LogArchiveOptions& options);

// logs restore: either one snapshot (`snapshot` set), or every distinct
// archived file with mtime >= since_ms across the logs snapshots (of `host`
// when set). Written below `target` with their mtimes; a name that two
// different files share (numbered rotations) gets "~<sha256 prefix>" appended
// for all but the newest.
struct LogRestoreOptions {
  std::string snapshot;   // id, prefix or "latest" (of `host`, default this host); empty: use since_ms
  int64_t since_ms = 0;
  std::string host;       // since_ms: only this host's (empty: all); "latest": this host's (empty: this machine's)
};
struct LogRestoreResult {
  std::vector<std::string> files;  // names written
  uint64_t bytes = 0;
  size_t snapshots = 0;
};
Result<LogRestoreResult> RestoreLogs(repo::Repository& repo, const std::string& target, const LogRestoreOptions& options);

// "90d", "12h", "30m", "45s", "2w", "7y" (365 days + leap allowance as
// kDefaultKeepArchiveMs for whole years), "0" -> milliseconds.
Result<int64_t> ParseDurationMs(const std::string& text);

}  // namespace ailee::ops
