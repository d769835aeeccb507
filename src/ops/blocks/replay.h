// Replay: rolls a state data dir forward with archived blocks (point-in-time
// recovery). Given a data dir at height S (a restored snapshot, a
// checkpoint) and the node's block archive (repo/block_archive.h), applies
// blocks S+1..H through StateDb::ApplyBlock, the code a follower runs: each
// block's height and link to the tip, its signature under the federation,
// tx root, anchor, every transaction re-executed and the resulting state
// root compared with the block's. It stops at H.
//
// Errors: a gap in the archive is kDataLoss naming the missing heights; H
// beyond the archive is kNotFound naming the latest archived height; H below
// S is kFailedPrecondition (restore an older snapshot); a block that fails
// ApplyBlock stops the replay there (the error names the height; the data
// dir then holds every block below it). Each block is committed durably on
// its own (StateDb's crash contract), so a killed replay resumes by running
// again: it starts from the data dir's tip.
//
// The data dir must not be in use by a node (StateDb's LOCK: kUnavailable).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "base/status.h"
#include "crypto/hash.h"
#include "repo/repository.h"
#include "state/federation.h"

namespace ailee::ops {

// Where to stop: exactly one of the three.
struct ReplayTarget {
  std::optional<uint64_t> height;
  std::optional<int64_t> time_ms;   // the last block whose timestamp is at or before it
  std::optional<uint64_t> anchor;   // the Nth anchor commitment (1-based): its block
};

// The height a target names, from the archive of `node_id`. kNotFound when
// the archive does not reach it (naming the latest archived height and time).
Result<uint64_t> ResolveReplayTarget(const repo::Repository& repo, const std::string& node_id,
                                     const ReplayTarget& target, uint64_t commitment_interval);

struct ReplayOptions {
  std::string data_dir;             // state at height S; changed in place
  std::string node_id;              // whose archive
  uint64_t to_height = 0;
  state::Federation federation;     // signatures are checked under it
  uint64_t commitment_interval = 100;  // the node's node.commitment_interval
  std::function<void(uint64_t height, uint64_t to_height)> progress;
};

struct ReplayResult {
  uint64_t from_height = 0;  // the data dir's tip before
  uint64_t to_height = 0;
  uint64_t blocks = 0;
  uint64_t transactions = 0;
  double seconds = 0;
  crypto::Hash256 block_hash{};
  crypto::Hash256 state_root{};
};

Result<ReplayResult> ReplayBlocks(const repo::Repository& repo, const ReplayOptions& options);

// The recovery window of a node: from its oldest state snapshot (the
// earliest state a restore can start from) to its last archived block.
struct RecoveryWindow {
  std::string node_id;
  bool has_snapshot = false;
  uint64_t earliest_height = 0;
  int64_t earliest_time_ms = 0;   // the snapshot's time
  std::string earliest_snapshot;  // id hex
  uint64_t latest_height = 0;     // last archived block (0: no archive)
  int64_t latest_time_ms = 0;     // its timestamp
};
Result<RecoveryWindow> GetRecoveryWindow(repo::Repository& repo, const std::string& node_id);

}  // namespace ailee::ops
