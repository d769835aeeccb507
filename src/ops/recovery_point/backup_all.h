// `backup all`: the runbook's backup-all.sh before maintenance (section
// "Manual Backup"): a full state backup, the configuration, the rotated logs,
// and a recovery point that ties the three together.
//
// A recovery point is a snapshot of kind "recovery-point" with no files:
// its meta names the state, config and logs snapshots taken for it and the
// block (height, hash, state root) the state snapshot holds. It is written
// last, only when every part is in the repository, so a recovery point
// always names a complete set; `restore RECOVERY_POINT` restores its state
// snapshot. Retention judges recovery points as their own group (kind,
// host); forgetting one of its snapshots leaves a recovery point that
// `ReadRecoveryPoint` reports incomplete.
//
// Nothing is removed by this job: the logs part keeps every local copy and
// forgets no archive (the scheduled `logs archive` does that).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "ops/config/backup.h"
#include "ops/logs/archive.h"
#include "ops/state/backup.h"
#include "repo/repository.h"
#include "repo/snapshot.h"

namespace ailee::ops {

inline constexpr const char* kRecoveryPointKind = "recovery-point";
inline constexpr const char* kRecoveryPointFormat = "ailee-recovery-point/1";

struct BackupAllOptions {
  std::string node_id;
  StateBackupOptions state;    // `full` is forced on
  ConfigBackupOptions config;
  LogArchiveOptions logs;      // keep_local_ms and keep_archive_ms are forced to "keep everything"
  // When the config names no log file, its default directory may not exist:
  // then the logs part is skipped (and said so) instead of failing the job.
  bool logs_optional = false;
  std::vector<std::string> tags;  // on every snapshot taken
  std::string note;               // recorded in the recovery point ("before upgrade to 1.4")
  // Called after each part lands: "state", "config", "logs".
  std::function<void(const std::string& part, const std::string& snapshot_id)> on_part;
};

struct BackupAllResult {
  StateBackupResult state;
  ConfigBackupResult config;
  LogArchiveResult logs;            // snapshot_id empty when there were no rotated logs
  std::string logs_skipped;         // why the logs part was skipped, or empty
  std::string recovery_point_id;    // hex
  // Every snapshot written, in order (state, config, logs if any, recovery point).
  std::vector<std::string> snapshot_ids;
};

// Runs the parts in order. A part that fails stops the job before the
// recovery point is written; the error names the snapshots already stored
// (they are complete and usable on their own).
Result<BackupAllResult> BackupAll(repo::Repository& repo, const BackupAllOptions& options);

// What a recovery point names, and whether each of its snapshots is still
// in the repository (`missing` lists those forgotten since).
struct RecoveryPoint {
  std::string id;
  std::string node_id;
  int64_t time_ms = 0;
  std::string note;
  std::string state_snapshot;
  uint64_t height = 0;
  std::string block_hash;
  std::string state_root;
  std::string config_snapshot;
  std::string logs_snapshot;  // empty: no rotated logs at the time
  std::vector<std::string> missing;
};
Result<RecoveryPoint> ReadRecoveryPoint(repo::Repository& repo, const repo::Snapshot& snapshot);

}  // namespace ailee::ops
