// backup state: the runbook's 15-minute incremental and daily full backups
// of a node's state into the repository (restores: ops/state/restore.h).
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
#include "ops/state/checkpoint_create.h"
#include "ops/state/source.h"
#include "state/checkpoint_manifest.h"
#include "repo/backup.h"
#include "repo/repository.h"
#include "repo/snapshot.h"

namespace ailee::ops {

struct StateBackupOptions {
  // When set, the source is resolved first (online or offline, ResolveStateSource)
  // and `source` and `scratch_dir` are taken from it.
  std::optional<StateSourceOptions> resolve_source;
  CreateCheckpointOptions source;  // node_url+admin_token (online) or data_dir (offline); output unused
  std::string scratch_dir;         // where the checkpoint is taken: on the data dir's filesystem (StateSource::scratch_parent)
  bool full = false;
  std::vector<std::string> tags;
  std::string audit_head;          // "seq:hash" of the audit log, recorded in the snapshot
  int zstd_level = 2;              // 0: store uncompressed (config::ParseCompression)
  std::function<void(const repo::BackupProgress&)> progress;
};

struct StateBackupResult {
  repo::BackupResult backup;
  state::CheckpointManifest checkpoint;  // height, block hash, state root (no file list)
  std::string parent;             // parent snapshot id used for the incremental, or empty
};

// Takes a consistent checkpoint, stores what the repository lacks (reusing
// unchanged files of the node's latest state snapshot without reading them,
// unless `full`) and records the snapshot. The checkpoint is removed after.
Result<StateBackupResult> BackupState(repo::Repository& repo, const StateBackupOptions& options);

}  // namespace ailee::ops
