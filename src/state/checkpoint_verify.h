// verify-checkpoint, and the checks every apply runs before it may replace a
// data dir: the files against the manifest, the database proven, no rollback.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "crypto/hash.h"
#include "state/checkpoint_manifest.h"
#include "state/federation.h"

namespace ailee::state {

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
// The directory is treated as hostile (state/checkpoint_files.h): an entry
// that is not a regular file the manifest lists (a symlink, FIFO, socket,
// device, extra file or directory) is a problem, never followed or opened,
// and the database is then not opened at all (RocksDB would follow it, block
// on it or read it); no file is read past the manifest's size.
// An error Status only when verification cannot run (no manifest: kNotFound).
// `files_hashed`: the caller has just checked every file's SHA-256 (a
// download does, as it writes): sizes, types and the file list are still
// checked, the files are not read again.
Result<CheckpointVerifyReport> VerifyCheckpoint(const std::string& dir, const std::optional<Federation>& federation,
                                                const CheckpointProgressFn& progress = {}, bool files_hashed = false);

// The database part of VerifyCheckpoint alone, on `dir` against `m`: appends
// what it finds to r->problems and sets the recomputed root. Applies and
// restores run it on the staged tree, before the swap.
void ProveCheckpointDatabase(const std::string& dir, const CheckpointManifest& m,
                             const std::optional<Federation>& federation, const CheckpointProgressFn& progress,
                             CheckpointVerifyReport* r);

// Refuses (kFailedPrecondition, naming both heights, and both block hashes
// for another chain) to make `target` the state whose tip is (height,
// block_hash) when that would lose blocks: the target's tip is higher, or
// its block at `height` is another one (another chain). A missing or empty
// target, or one without a database, is fine; one whose database cannot be
// read is refused too (its tip is unknown). `allow_rollback` skips the check.
// Opens the target read-only; writes nothing. Every apply-checkpoint source
// calls it before anything else: directories and s3:// here, repository
// snapshots through ops::StateRestoreOptions.refuse_rollback.
Status CheckNotRollingBack(const std::string& target, uint64_t height, const crypto::Hash256& block_hash,
                           bool allow_rollback);

}  // namespace ailee::state
