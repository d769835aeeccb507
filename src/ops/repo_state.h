// State backups through the repository: the runbook's 15-minute incremental
// and daily full backups, restores, and the restore test behind
// `verify --restore-test`.
//
// A state snapshot is a RocksDB checkpoint stored with BackupTree (kind
// "state"); its meta records node id, height, block hash, state root, last
// anchor and the audit log head, so every restore can be proven against it.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "ops/checkpoint.h"
#include "repo/backup.h"
#include "repo/repository.h"
#include "repo/restore.h"
#include "state/federation.h"

namespace ailee::ops {

struct StateBackupOptions {
  CreateCheckpointOptions source;  // node_url+admin_token (online) or data_dir (offline); output unused
  std::string scratch_dir;         // where the checkpoint is taken: must be on the data dir's filesystem
  bool full = false;
  std::vector<std::string> tags;
  std::string audit_head;          // "seq:hash" of the audit log, recorded in the snapshot
  int zstd_level = 2;              // 0: store uncompressed (config::ParseCompression)
  std::function<void(const repo::BackupProgress&)> progress;
};

struct StateBackupResult {
  repo::BackupResult backup;
  CheckpointManifest checkpoint;  // height, block hash, state root (no file list)
  std::string parent;             // parent snapshot id used for the incremental, or empty
};

// Takes a consistent checkpoint, stores what the repository lacks (reusing
// unchanged files of the node's latest state snapshot without reading them,
// unless `full`) and records the snapshot. The checkpoint is removed after.
Result<StateBackupResult> BackupState(repo::Repository& repo, const StateBackupOptions& options);

struct StateRestoreOptions {
  bool force = false;  // replace a non-empty target (apply-checkpoint always replaces)
  std::optional<state::Federation> federation;  // verify signatures too
  bool verify = true;  // run the full state verification on the result
  std::function<void(const repo::RestoreProgress&)> progress;
};

struct StateRestoreResult {
  std::string snapshot_id;
  uint64_t height = 0;
  crypto::Hash256 state_root{};
  repo::RestoreStats stats;
  bool verified = false;
  std::vector<std::string> problems;  // from verification; empty when ok
};

// Restores state snapshot `ref` into `target` (atomically, delta: files
// already in the target are reused), writes the checkpoint manifest, and
// proves the result: state root recomputed from scratch == the snapshot's.
// Fails with kDataLoss listing the problems when the proof fails (the
// restored data stays in place for inspection; nothing unverified is ever
// reported as good). Refuses a target in use by a running node.
Result<StateRestoreResult> RestoreState(repo::Repository& repo, const std::string& ref, const std::string& target,
                                        const StateRestoreOptions& options);

// verify --restore-test: restores the latest state snapshot into a fresh
// directory under `scratch_parent`, proves it, and removes it.
Result<StateRestoreResult> RestoreTest(repo::Repository& repo, const std::string& scratch_parent,
                                       const std::optional<state::Federation>& federation);

}  // namespace ailee::ops
