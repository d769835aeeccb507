// Restores of node state from the repository: `restore`, apply-checkpoint
// from a snapshot, and the restore test behind `verify --restore-test`.
//
// A state snapshot (ops/state/backup.h) records node id, height, block hash
// and state root in its meta, so every restore is proven against it.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "ops/state/keep_aside.h"
#include "repo/repository.h"
#include "repo/restore.h"
#include "repo/snapshot.h"
#include "state/federation.h"

namespace ailee::ops {

// Point-in-time recovery (ops/state/point_in_time.h): the staged snapshot is
// rolled forward with archived blocks (ops/blocks/replay.h) before the
// proof, so the tree that is proven and swapped in is the replayed one.
struct RollForward {
  std::string node_id;  // whose block archive
  uint64_t to_height = 0;
  state::Federation federation;  // each block's signatures are checked under it
  uint64_t commitment_interval = 100;
  std::function<void(uint64_t height, uint64_t to_height)> progress;
};

struct StateRestoreOptions {
  bool force = false;  // replace a non-empty target (apply-checkpoint always replaces)
  std::optional<state::Federation> federation;  // verify signatures too
  bool verify = true;  // run the full state verification on the result
  // Whose state "latest" means: the newest state snapshot whose meta.node_id
  // is this (the config's node.id, or --host). Required for "latest".
  std::string node_id;
  // apply-checkpoint: refuse a target whose tip is above the snapshot's or on
  // another chain (state::CheckNotRollingBack), checked against the snapshot this
  // call resolves, before anything is fetched.
  bool refuse_rollback = false;
  std::function<void(const repo::RestoreProgress&)> progress;
  // Set: replay archived blocks up to roll_forward->to_height into the
  // staged tree before the proof (not with apply-checkpoint's rollback check).
  std::optional<RollForward> roll_forward;
  // Skip the proof here: the staged tree gets a proof-pending marker
  // (state/proof_pending.h) and ailee-node proves it in the background,
  // signing and serving nothing until it passes (docs/recovery.md). A
  // non-empty target is kept aside first (ops/state/keep_aside.h) and named
  // in the marker, so a failed proof never costs the old data dir.
  bool prove_in_background = false;
};

struct StateRestoreResult {
  std::string snapshot_id;
  uint64_t snapshot_height = 0;  // the snapshot's own height
  uint64_t blocks_replayed = 0;  // archived blocks applied on top of it
  uint64_t transactions_replayed = 0;
  uint64_t height = 0;           // the restored tip: snapshot_height + blocks_replayed
  crypto::Hash256 state_root{};
  repo::RestoreStats stats;
  bool verified = false;
  std::vector<std::string> problems;  // from verification; empty when ok
  bool proof_pending = false;  // prove_in_background: the node proves it when it starts
  KeptAside kept_aside;        // the fallback kept until proven (dir "" none; stale: an older one, the target discarded)
};

// Restores state snapshot `ref` (an id, a unique prefix, or "latest": the
// newest state snapshot of options.node_id) into `target`, all or nothing:
// the tree is built beside the target (delta: files already in the target
// are reused), the checkpoint manifest is written into it and the proof runs
// on it there (state root recomputed from scratch == the snapshot's; height
// and tip block hash as recorded; signatures against options.federation),
// and only a proven tree is swapped in. With options.roll_forward the
// staged tree is first replayed to that height (each block verified by
// StateDb::ApplyBlock) and re-sealed as a checkpoint; the proof then expects
// the replayed tip; a replay failure (a gap: kDataLoss naming the heights) is
// the restore's, the target untouched. When the proof fails: kDataLoss
// listing the first problem, the staging tree removed, the target untouched.
// Refuses (kInvalidArgument, before writing anything) a snapshot that is not
// a state snapshot or that holds a symlink, and a target in use by a running
// node.
Result<StateRestoreResult> RestoreState(repo::Repository& repo, const std::string& ref, const std::string& target,
                                        const StateRestoreOptions& options);
// The same for a snapshot already loaded (ChooseRestoreSnapshot): not read
// from the repository again. options.node_id is not used.
Result<StateRestoreResult> RestoreStateSnapshot(repo::Repository& repo, const repo::Snapshot& snapshot,
                                                const std::string& target, const StateRestoreOptions& options);

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
