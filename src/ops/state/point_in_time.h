// Point-in-time recovery: `restore --to-height H` (or --to-time,
// --to-anchor, or `latest` with a block archive). Chooses the newest state
// snapshot of the node at or below H, restores it beside the target, rolls
// the staged tree forward with the node's archived blocks up to H (each
// block verified: chain link, signatures under the federation, state root;
// ops/blocks/replay.h), proves the result like any restore and only then
// swaps it in (ops/state/restore.h). The target is never half-replayed.
//
// Errors, all before the target is touched:
//  - H beyond the archive: kNotFound naming the latest archived height;
//  - H below the node's oldest state snapshot (or no snapshot at all):
//    kNotFound naming the recovery window;
//  - a gap in the archive between the snapshot and H: kDataLoss naming the
//    missing heights, found from the segment listing before anything is
//    fetched (and again, block by block, by the replay);
//  - a damaged or forged segment: kDataLoss naming it (the replay's).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "ops/blocks/replay.h"
#include "ops/state/restore.h"
#include "repo/repository.h"
#include "state/federation.h"

namespace ailee::ops {

struct PointInTimeOptions {
  std::string node_id;                 // whose snapshots and archive (required)
  std::optional<ReplayTarget> target;  // nullopt: "latest" (the newest archived block, else the newest snapshot)
  bool replay = true;                  // false: `latest` is the newest snapshot, nothing replayed (--no-replay)
  // Needed to replay; without it, a restore that would replay is refused
  // (kInvalidArgument) rather than silently not replayed.
  std::optional<state::Federation> federation;
  uint64_t commitment_interval = 100;  // the node's node.commitment_interval
  bool force = false;
  bool verify = true;
  bool prove_in_background = false;  // StateRestoreOptions::prove_in_background
  std::function<void(const repo::RestoreProgress&)> progress;
  std::function<void(uint64_t height, uint64_t to_height)> replay_progress;
};

// Restores into `target`; the result says which snapshot and how many
// blocks were replayed on top of it (StateRestoreResult).
Result<StateRestoreResult> RestoreToPoint(repo::Repository& repo, const std::string& target,
                                          const PointInTimeOptions& options);

// The heights from..to (inclusive) the segment listing of `node_id` does not
// cover, as "A..B" of the first gap; Ok when it covers them all. kDataLoss
// for a gap; kNotFound when the archive ends before `to`.
Status CheckArchiveCovers(const repo::Repository& repo, const std::string& node_id, uint64_t from, uint64_t to);

// The recovery window of every node the repository holds state snapshots or
// archived blocks of (sorted by node id): from the oldest state snapshot to
// the last archived block, or to the newest snapshot when that is later
// (no archive). A node with blocks but no snapshot has has_snapshot false.
Result<std::vector<RecoveryWindow>> ListRecoveryWindows(repo::Repository& repo);

// "heights E (time) .. L (time)", or why there is no window: for messages.
std::string DescribeRecoveryWindow(const RecoveryWindow& w);
// The windows as `snapshots` and `repo status` print them in --json.
nlohmann::json RecoveryWindowsJson(const std::vector<RecoveryWindow>& windows);

}  // namespace ailee::ops
