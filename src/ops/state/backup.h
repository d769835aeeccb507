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
#include "repo/snapshot.h"
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
  // Whose state "latest" means: the newest state snapshot whose meta.node_id
  // is this (the config's node.id, or --host). Required for "latest".
  std::string node_id;
  // apply-checkpoint: refuse a target whose tip is above the snapshot's or on
  // another chain (CheckNotRollingBack), checked against the snapshot this
  // call resolves, before anything is fetched.
  bool refuse_rollback = false;
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

// Restores state snapshot `ref` (an id, a unique prefix, or "latest": the
// newest state snapshot of options.node_id) into `target`, all or nothing:
// the tree is built beside the target (delta: files already in the target
// are reused), the checkpoint manifest is written into it and the proof runs
// on it there (state root recomputed from scratch == the snapshot's; height
// and tip block hash as recorded; signatures against options.federation),
// and only a proven tree is swapped in. When the proof fails: kDataLoss
// listing the first problem, the staging tree removed, the target untouched.
// Refuses (kInvalidArgument, before writing anything) a snapshot that is not
// a state snapshot or that holds a symlink, and a target in use by a running
// node.
Result<StateRestoreResult> RestoreState(repo::Repository& repo, const std::string& ref, const std::string& target,
                                        const StateRestoreOptions& options);

// What `restore REF [--kind K] [--host ID]` restores.
struct RestoreChoice {
  std::string kind;     // "" (= "state"), "state", "config" or "logs"
  std::string node_id;  // state "latest": this node's (required); config/logs "latest": this host's or node's (empty: any)
};
// Resolves REF for a restore into a directory:
//  - kind state (or empty): "latest" is the newest state snapshot of node_id
//    (kInvalidArgument without one; kNotFound naming the node when it has
//    none, whatever other nodes or kinds hold); an id or prefix must name a
//    state snapshot, else kInvalidArgument naming the command that restores
//    that kind (`logs restore`, `restore config`) or `--kind`;
//  - kind config or logs: "latest" is the newest snapshot of that kind (of
//    node_id's node or host when set); an id must be of that kind.
Result<repo::Snapshot> ChooseRestoreSnapshot(repo::Repository& repo, const std::string& ref, const RestoreChoice& choice);

// verify --restore-test: restores the newest state snapshot (of any node)
// into a fresh directory under `scratch_parent`, proves it, and removes it.
// Scratch a killed test left under `scratch_parent` is removed first.
Result<StateRestoreResult> RestoreTest(repo::Repository& repo, const std::string& scratch_parent,
                                       const std::optional<state::Federation>& federation);

}  // namespace ailee::ops
