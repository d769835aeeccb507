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
// The directory is treated as hostile (ops/checkpoint_files.h): an entry
// that is not a regular file the manifest lists (a symlink, FIFO, socket,
// device, extra file or directory) is a problem, never followed or opened,
// and the database is then not opened at all (RocksDB would follow it, block
// on it or read it); no file is read past the manifest's size.
// An error Status only when verification cannot run (no manifest: kNotFound).
// `files_hashed`: the caller has just checked every file's SHA-256 (a
// download does, as it writes): sizes, types and the file list are still
// checked, the files are not read again.
Result<CheckpointVerifyReport> VerifyCheckpoint(const std::string& dir, const std::optional<state::Federation>& federation,
                                                const ProgressFn& progress = {}, bool files_hashed = false);

// The database part of VerifyCheckpoint alone, on `dir` against `m`: appends
// what it finds to r->problems and sets the recomputed root. Applies and
// restores run it on the staged tree, before the swap.
void ProveCheckpointDatabase(const std::string& dir, const CheckpointManifest& m,
                             const std::optional<state::Federation>& federation, const ProgressFn& progress,
                             CheckpointVerifyReport* r);

// Refuses (kFailedPrecondition, naming both heights, and both block hashes
// for another chain) to make `target` the state whose tip is (height,
// block_hash) when that would lose blocks: the target's tip is higher, or
// its block at `height` is another one (another chain). A missing or empty
// target, or one without a database, is fine; one whose database cannot be
// read is refused too (its tip is unknown). `allow_rollback` skips the check.
// Opens the target read-only through the state layer; writes nothing. Every
// apply-checkpoint source calls it before anything else: directories and
// s3:// here, repository snapshots through StateRestoreOptions.refuse_rollback.
Status CheckNotRollingBack(const std::string& target, uint64_t height, const crypto::Hash256& block_hash,
                           bool allow_rollback);

struct ApplyReport {
  uint64_t files = 0;
  uint64_t files_reused = 0;   // already identical in the target: linked, not copied
  uint64_t bytes_written = 0;
  uint64_t bytes_reused = 0;
  CheckpointManifest manifest;
};

struct ApplyOptions {
  std::optional<state::Federation> federation;  // block and anchor signatures checked when set
  bool allow_rollback = false;                  // see CheckNotRollingBack
  // `src` is a private copy (a download) that the caller made on the
  // target's filesystem, hashed file by file as it was written, and removes
  // afterwards: its files are hard-linked into place rather than copied, and
  // not hashed again.
  bool consume_src = false;
  ProgressFn progress;
};

// Makes `target` an exact copy of the checkpoint at `src`, writing only
// files that differ (delta restore). In order, stopping at the first failure
// with the target untouched and nothing left beside it:
//   1. refuses a target a running node holds, and a rollback
//      (CheckNotRollingBack);
//   2. verifies `src` exactly as VerifyCheckpoint does (kDataLoss naming the
//      first problem): a hostile entry is refused, never followed or read
//      (with `consume_src`, whose files were hashed as they were downloaded,
//      the entries and sizes are checked and the database is proven in 4);
//   3. assembles the new state in a staging dir beside the target named for
//      this run (".<name>.apply-<owner>-<random>"; killed runs' are removed,
//      a concurrent run's never) (reusing target
//      files with the same size and SHA-256; SSTs by hard link), every file
//      opened without following links, checked regular and of the
//      manifest's size, copies hashed as written;
//   4. writes the manifest and proves the staged tree (ProveCheckpointDatabase);
//   5. fsyncs it and swaps it with the target in one atomic rename
//      (RENAME_EXCHANGE): a crash leaves the old state or the new one at
//      `target`, never a mix.
Result<ApplyReport> ApplyCheckpointDir(const std::string& src, const std::string& target, const ApplyOptions& options);

// Installs a fully built and verified directory `staged` at `target`
// atomically (swap, then remove the old state). Shared by restores.
Status InstallDirectory(const std::string& staged, const std::string& target);

// kFailedPrecondition (with a hint: stop the node) when a process holds the
// RocksDB lock of `dir`.
Status EnsureNotInUse(const std::string& dir);

}  // namespace ailee::ops
