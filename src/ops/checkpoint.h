// Checkpoints: the runbook's create-checkpoint / verify-checkpoint /
// apply-checkpoint.
//
// A checkpoint is a directory holding a consistent RocksDB copy of a node's
// state at a block boundary plus AILEE-CHECKPOINT.json, its manifest
// (docs/checkpoint-format.md): node id, height, block hash, state root, and
// every file with size and SHA-256. The manifest is written last, atomically,
// and the directory is built under a temporary name and renamed into place,
// so a checkpoint that exists under its final name is complete.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "crypto/hash.h"
#include "state/federation.h"

namespace ailee::ops {

inline constexpr char kCheckpointManifestName[] = "AILEE-CHECKPOINT.json";

struct CheckpointFile {
  std::string path;  // relative to the checkpoint directory
  uint64_t size = 0;
  crypto::Hash256 sha256{};
};

struct CheckpointManifest {
  int format = 1;
  std::string node_id;
  uint64_t height = 0;
  crypto::Hash256 block_hash{};
  crypto::Hash256 state_root{};
  int64_t created_unix = 0;
  std::string source;  // "online:<url>" or "offline:<data dir>"
  std::vector<CheckpointFile> files;
};

std::string EncodeManifest(const CheckpointManifest& m);
Result<CheckpointManifest> DecodeManifest(std::string_view json_text, const std::string& where);
Result<CheckpointManifest> ReadManifest(const std::string& dir);

using ProgressFn = std::function<void(const std::string& phase, uint64_t done, uint64_t total)>;

// Hashes every regular file under `dir` (skipping the manifest), 2 threads.
Result<std::vector<CheckpointFile>> HashTree(const std::string& dir, const ProgressFn& progress = {});

struct CreateCheckpointOptions {
  std::string output;       // must not exist
  std::string node_url;     // online: ask this node through its admin API
  std::string admin_token;  // for node_url
  std::string data_dir;     // offline: open this stopped node's data dir
  std::string node_id;
  ProgressFn progress;
};

// Online when node_url is set, else offline on data_dir (fails with
// kFailedPrecondition, hinting to stop the node or use the online path, if a
// node holds it: a retry alone does not help).
Result<CheckpointManifest> CreateCheckpoint(const CreateCheckpointOptions& options);

// The RocksDB checkpoint alone, into `dir` (must not exist), without hashing
// files or writing a manifest: the returned manifest has no files. Backups
// use this so that unchanged SST files are never read.
Result<CheckpointManifest> TakeCheckpoint(const CreateCheckpointOptions& options, const std::string& dir);

struct CheckpointVerifyReport {
  bool ok = false;
  CheckpointManifest manifest;
  uint64_t files_checked = 0;
  uint64_t bytes_checked = 0;
  uint64_t entries_checked = 0;
  crypto::Hash256 recomputed_state_root{};
  std::vector<std::string> problems;
};

// Files match the manifest (no missing, changed or extra files), the
// database opens read-only, blocks/anchors verify, and the state root
// recomputed from scratch equals the manifest's and the tip block's.
// An error Status only when verification cannot run (no manifest: kNotFound).
// `files_hashed`: the caller has just checked every file's SHA-256 (a
// download does, as it writes): sizes and the file list are still checked,
// the files are not read again.
Result<CheckpointVerifyReport> VerifyCheckpoint(const std::string& dir, const std::optional<state::Federation>& federation,
                                                const ProgressFn& progress = {}, bool files_hashed = false);

struct ApplyReport {
  uint64_t files = 0;
  uint64_t files_reused = 0;   // already identical in the target: linked, not copied
  uint64_t bytes_written = 0;
  uint64_t bytes_reused = 0;
  CheckpointManifest manifest;
};

// Makes `target` an exact copy of the checkpoint at `src`, writing only
// files that differ (delta restore). The new state is assembled and checked
// in a sibling temporary directory, fsynced, then swapped with the target in
// one atomic rename (RENAME_EXCHANGE): a crash leaves the old state or the
// new one at `target`, never a mix. Refuses a target a running node holds.
// `consume_src`: `src` is a private, verified copy (a download) that the
// caller removes afterwards, on the target's filesystem: its files are
// hard-linked into place rather than copied and hashed again.
Result<ApplyReport> ApplyCheckpointDir(const std::string& src, const std::string& target, const ProgressFn& progress = {},
                                       bool consume_src = false);

// Installs a fully built and verified directory `staged` at `target`
// atomically (swap, then remove the old state). Shared by restores.
Status InstallDirectory(const std::string& staged, const std::string& target);

// kFailedPrecondition (with a hint: stop the node) when a process holds the
// RocksDB lock of `dir`.
Status EnsureNotInUse(const std::string& dir);

}  // namespace ailee::ops
