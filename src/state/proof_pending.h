// The "proof pending" marker: a data dir whose state was installed by a
// restore that skipped the proof (`restore --prove-in-background`), to be
// proven by ailee-node in the background before it signs or serves
// (docs/recovery.md, "Serving before the proof completes").
//
// The file AILEE-PROOF-PENDING.json lives in the data dir beside RocksDB's
// files (RocksDB ignores names it does not own). The restore writes it into
// the staged tree before the swap, so the state and its marker arrive
// together: a crash leaves the old tree, or the new tree with its marker,
// never the new tree without one. Format (versioned JSON):
//   {"format": "ailee-proof-pending/1", "height": H, "block_hash": hex,
//    "state_root": hex, "source": "snapshot:<id>", "written": "UTC time",
//    "previous_dir": "/abs/dir" (the data dir it replaced, kept aside until
//    proven; absent when the target was empty), "previous_kept": "UTC time"
//    (when previous_dir was kept aside; optional, absent in older markers),
//    "last_failure": "what failed" and "failed": "UTC time" (after a failed proof)}
// The node removes the file (durably) only after the proof passed; a failed
// proof leaves it, with last_failure, so every restart proves again.
// Anything at that name that is not a regular file holding a valid marker
// (a symlink, a directory, a FIFO, garbage) reads as kDataLoss, never as "no
// marker": a damaged or planted marker fails closed.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "base/status.h"
#include "crypto/hash.h"

namespace ailee::state {

inline constexpr char kProofPendingName[] = "AILEE-PROOF-PENDING.json";

struct ProofPending {
  uint64_t height = 0;            // what the snapshot (or roll-forward) claims
  crypto::Hash256 block_hash{};
  crypto::Hash256 state_root{};
  std::string source;             // "snapshot:<id>[+blocks:a..b]"
  int64_t written_unix = 0;
  std::string previous_dir;       // empty: nothing was replaced
  int64_t previous_kept_unix = 0; // when previous_dir was kept aside (0: not recorded)
  std::string last_failure;       // empty until a proof failed
  int64_t failed_unix = 0;
};

// Where a restore with the background proof keeps the data dir it replaces
// until the new state is proven: "<data_dir>.before-restore" (data_dir
// absolute, without a trailing slash). The node removes only this path.
std::string KeptAsideDir(const std::string& data_dir);

// Writes (or replaces) the marker in `dir`: temporary file, fsync, rename,
// fsync of `dir`.
Status WriteProofPending(const std::string& dir, const ProofPending& marker);
// nullopt when `dir` has no marker; kDataLoss when it is not a regular file
// (never followed: symlinks are refused), unreadable or malformed (the
// caller must then treat the state as unproven); the lstat error when `dir`
// cannot be looked into.
Result<std::optional<ProofPending>> ReadProofPending(const std::string& dir);
// For jobs that copy a stopped data dir as a good state (offline backup
// state, create-checkpoint): ok when `dir` holds no marker;
// kFailedPrecondition when it holds one (the restored state is not proven
// yet: what, the marker's path, and to start the node and let the proof
// finish); the read error (kDataLoss) with the same hint when the marker is
// there but unreadable. Such a copy would carry no marker, and the state in
// it would then pass for proven wherever it is restored.
Status EnsureProven(const std::string& dir);
// Removes the marker and fsyncs `dir`; ok when there is none.
Status ClearProofPending(const std::string& dir);

}  // namespace ailee::state
