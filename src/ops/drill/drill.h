// `ailee-cli drill`: rehearses the recovery of a node without touching
// production, and measures it.
//
//  1. restore: the chosen recovery point (ops/drill/point.h) of the node is
//     restored into a fresh sandbox directory through point-in-time recovery
//     (ops/state/point_in_time.h: the newest state snapshot at or below it,
//     rolled forward with archived blocks, proven before it lands);
//  2. start: an ailee-node on that state, on a free loopback port, with a
//     config written into the sandbox that makes it a follower of the
//     production leader and holds no signer section at all: it has no key
//     and can never sign (a node without a key refuses to produce);
//  3. catch-up: waits (bounded by the timeout) until the sandbox node holds
//     the production node's tip at drill start;
//  4. proof: at that height the sandbox node's block (hash, state root)
//     equals the production node's, its state root recomputed from scratch
//     (/v1/health?deep=1) agrees, and the anchor commitment at or below it
//     is the same on both.
// The sandbox node is stopped and the sandbox removed on every path out
// (unless `keep`); a killed drill's sandbox is removed by the next drill
// (base/scratch.h), its node dies with it (PR_SET_PDEATHSIG).
//
// The result is a report whatever happened: a failed check is a report with
// ok false naming the check, not an error. An error Status means the drill
// could not be run at all (no repository, no production node, bad options).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/status.h"
#include "ops/drill/point.h"
#include "repo/repository.h"
#include "state/federation.h"

namespace ailee::ops {

// The runbook's objectives for the L2 state (docs/drills.md; config
// drill.targets): RTO < 4 hours, RPO < 15 minutes.
struct DrillTargets {
  int64_t rto_s = 4 * 3600;
  int64_t rpo_s = 15 * 60;
  std::optional<uint64_t> rpo_blocks;  // none unless configured
};

// What the sandbox node's config copies from production.
struct SandboxNodeSpec {
  std::string node_id;                 // production node.id (the sandbox is "<id>-drill")
  std::string leader_url;              // the sandbox follows it
  std::string federation_yaml;         // the `federation:` section, keys inline
  int64_t block_interval_ms = 1000;
  int64_t commitment_interval = 100;
};

struct DrillOptions {
  DrillPointRequest point;
  uint64_t seed = 0;                 // --random-within's draw
  std::string production_url;        // the node whose tip and blocks the sandbox is proven against
  SandboxNodeSpec sandbox;
  std::string node_binary;           // ailee-node
  std::string sandbox_parent;        // the sandbox is a fresh directory in it
  bool keep = false;                 // leave the sandbox (stopped) for inspection
  int64_t timeout_ms = 600000;       // start + catch-up
  std::optional<state::Federation> federation;  // archived blocks' signatures
  DrillTargets targets;
  const Clock* clock = &Clock::Real();
  std::function<bool()> cancelled;   // SIGINT/SIGTERM: stop waiting, clean up
  std::function<void(const std::string& phase)> on_phase;
};

struct DrillPhase {
  std::string name;        // fetch, replay, proof, start, catch-up
  int64_t start_ms = 0;    // since the drill started
  int64_t duration_ms = 0;
};

struct DrillCheck {
  std::string name;        // restore-proof, start, never-signs, catch-up, state-root, anchor, deep-health
  bool ok = false;
  std::string detail;
};

struct DrillReport {
  bool ok = false;
  std::string failed_check;  // the first failed check's name
  Status verdict = Status::Ok();  // ok, or the first failed check as an error (its code: docs/exit-codes.md)
  uint64_t seed = 0;         // DrillOptions::seed, to repeat a random choice
  std::string node_id;
  int64_t started_ms = 0;    // wall clock
  std::string point;         // DrillPoint::how
  std::string snapshot_id;
  uint64_t snapshot_height = 0;
  uint64_t restored_height = 0;
  uint64_t blocks_replayed = 0;
  std::string restored_state_root;
  uint64_t network_tip = 0;        // production tip at drill start
  int64_t network_tip_time_ms = 0;
  int64_t restored_time_ms = 0;    // the restored tip block's timestamp
  uint64_t rpo_blocks = 0;
  int64_t rpo_ms = 0;
  int64_t rto_ms = 0;              // sum of the phases
  uint64_t proven_height = 0;
  uint64_t anchor_height = 0;      // 0: no anchor at or below proven_height
  std::vector<DrillPhase> phases;
  std::vector<DrillCheck> checks;
  DrillTargets targets;
  std::string sandbox;             // kept (with keep) or removed
};

Result<DrillReport> RunDrill(repo::Repository& repo, const DrillOptions& options);

}  // namespace ailee::ops
