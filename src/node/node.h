// Node: an AILEE-Core L2 node process. A leader (sequencer) collects
// transactions in its mempool and produces a signed block every
// block_interval_ms; a follower pulls blocks from its leader, verifies each
// one (signature, tx root, re-execution, state root) and applies it.
//
// A leader never signs a height twice: its signer's fence (keys/signing_fence.h)
// is written before each block is committed, and on start the leader first
// catches up from its peers (config `peers`) through the follower's code
// (node/chain_sync.h), producing only once node/leader_gate.h allows it. A
// follower whose leader's chain does not extend its own stops and reports
// `forked` (status, health 503).
//
// A data dir holding a proof-pending marker (state/proof_pending.h: a
// restore that skipped its proof) is proven in the background
// (node/background_proof.h) while the node answers: until it passes the node
// is gated() - no block is produced or applied, and the HTTP API answers
// only /v1/status, /v1/health and /metrics (503 naming the proof otherwise).
// A failed proof stops the node (exit_status() says what failed and what to
// do; the marker stays, so a restart proves again).
//
// Lifecycle: Create() opens the state database (one process per data dir),
// Start() binds the HTTP listener and starts the worker thread, Stop() (from
// any thread, idempotent, also on SIGTERM) finishes the block in progress,
// stops serving and closes the database. Every block is committed with one
// RocksDB write (synced; a follower syncs once per fetched page, which kill
// -9 does not lose either), so kill -9 at any moment loses at most the block
// being written.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "base/status.h"
#include "config/config.h"
#include "keys/signer.h"
#include "keys/signing_fence.h"
#include "node/archive_progress.h"
#include "node/background_proof.h"
#include "node/chain_sync.h"
#include "node/emergency.h"
#include "node/control_queue.h"
#include "node/mempool.h"
#include "state/state_db.h"

namespace httplib { class Server; }

namespace ailee::node {

struct NodeOptions {
  config::NodeConfig config;
  std::string follow_url;           // overrides config.follow when non-empty
  size_t max_block_txs = 20000;
  // Lead without knowing the network's tip (no peer answers, or no peers and
  // no fence history). Written to the audit log at start. Never lets the
  // leader sign at or below its fence.
  bool allow_lone_start = false;
  // The background proof of a restored state (node/background_proof.h):
  // at most this many blocks per second, 0 = unthrottled.
  int64_t proof_max_blocks_per_second = 0;
};

// What /v1/status reports under "sync" beyond the counters.
struct SyncReport {
  std::string state;   // leader, catching_up, waiting_for_tip, forked; follower: connecting, catching_up, synced, forked
  std::string reason;  // why not producing / not following; empty when all is well
  std::optional<ForkInfo> fork;
};

// Live counters for /v1/status and /metrics.
struct NodeCounters {
  std::atomic<uint64_t> tx_accepted{0};
  std::atomic<uint64_t> tx_rejected{0};
  std::atomic<uint64_t> blocks_produced{0};
  std::atomic<uint64_t> blocks_applied{0};
  std::atomic<int64_t> last_block_ms{0};        // time spent building/applying the last block
  std::atomic<uint64_t> leader_height{0};       // follower: last height seen at the leader
  std::atomic<int64_t> last_sync_ok_unix_ms{0};
};

class Node {
 public:
  static Result<std::unique_ptr<Node>> Create(NodeOptions options);
  ~Node();

  // Binds the listener (port 0 picks a free one) and starts the worker.
  Status Start();
  // Leaders: writes the signer's fence at the data dir's tip block (never
  // lowering it) and records that in the audit log; for an operator whose
  // fence was lost, once the tip was recovered (docs/keys.md).
  Status RecreateFenceAtTip();
  // Idempotent; safe from a signal-handling thread.
  void Stop();
  // Blocks until Stop() has completed.
  void Wait();
  // Why the node stopped on its own (a failed background proof); ok after a
  // requested stop. Read after Wait().
  Status exit_status() const;
  // True while a restored state's proof has not passed: nothing is signed,
  // applied or served beyond status, health and metrics.
  bool gated() const { return proof_ && !proof_->proven(); }
  // The background proof of this start, or null when the data dir had no
  // proof-pending marker.
  const BackgroundProof* proof() const { return proof_.get(); }

  int port() const { return port_; }
  bool is_follower() const { return !follow_url_.empty(); }
  const std::string& follow_url() const { return follow_url_; }
  const config::NodeConfig& config() const { return options_.config; }
  state::StateDb& db() { return *db_; }
  Mempool& mempool() { return *mempool_; }
  // The halt (node/emergency.h); a peg freeze is a control record.
  EmergencyControl& emergency() { return *emergency_; }
  // Halts block production (EmergencyControl::Halt) between blocks: it waits
  // for a block being built to commit, so a halt acknowledged at height H
  // is never followed by a block H+1 (only control records, which a halted
  // leader still commits on purpose).
  Status HaltProduction(const EmergencyRequest& request, int64_t now_ms);
  // The GENESIS federation (the config's); later epochs come from the chain
  // (db().Federations(federation())).
  const state::Federation& federation() const { return federation_; }
  // Leaders: puts a control record (federation change, peg freeze) at the
  // head of the next block and waits for it (node/control_queue.h) up to
  // `wait` for the leader to take it (default: a few blocks' time). A
  // federation change's activation_height is filled with that block's
  // height + 1. kFailedPrecondition on a follower; kUnavailable once the
  // node is stopping.
  Result<uint64_t> CommitControlRecord(state::Transaction tx,
                                       std::optional<std::chrono::milliseconds> wait = std::nullopt);
  NodeCounters& counters() { return counters_; }
  ArchiveProgress& archive_progress() { return archive_progress_; }
  const std::string& admin_token() const { return admin_token_; }
  // "leader", or for a follower "connecting" (no pull has succeeded yet),
  // "catching_up" or "synced" (its tip against the leader's last height).
  // Checkpoints need no lock here: StateDb serializes them with block
  // production and application itself.
  std::string SyncState() const;
  SyncReport Sync() const;
  // Records an emergency action (POST /v1/admin/emergency) with who asked,
  // why and its outcome in the node's audit log; the action stands even when
  // that fails (stopping the federation must not wait on a log), which is
  // logged as an error.
  void AuditEmergency(const std::string& action, const EmergencyRequest& request, const Status& outcome);
  // The same for a federation change (POST /v1/admin/federation-change):
  // who proposed it, why, how it was authorised and by whom, and the height
  // that carries it or the refusal. Callers other than ailee-cli (curl with
  // the token, a CLI with another audit log) leave their line here.
  void AuditFederationChange(const state::FederationChange& change, const Result<uint64_t>& outcome);

 private:
  explicit Node(NodeOptions options);
  Status Init();
  void LeaderLoop();
  void FollowerLoop();
  // Catches up from the peers until the leader gate opens; false when
  // stopping or forked (then the node serves but never produces).
  bool EstablishTip();
  // A block fenced but not committed before a crash: applied, not re-signed.
  void ApplyFencedPendingBlock();
  // Our block at the fence height must be the one the fence names.
  std::optional<ForkInfo> FenceFork() const;
  void SetSync(std::string state, std::string reason, std::optional<ForkInfo> fork = std::nullopt);
  Status AuditLoneStart();
  // `fields` are added to the record's args (who and why of an emergency).
  Status Audit(const std::string& operation, const std::string& message,
               const std::vector<std::pair<std::string, std::string>>& fields = {});
  // Whether the signer may sign the next block under the chain's epochs;
  // sets the sync state "not_a_signer" (with the reason) when not.
  bool SignerMaySignNext();
  // Blocks until the background proof (if any) has passed; false when
  // stopping (or it failed).
  bool WaitUntilProven();
  void OnProofDone(const Status& outcome);
  // Sleeps up to `ms`; returns false when stopping.
  bool SleepFor(int64_t ms);

  NodeOptions options_;
  std::string follow_url_;
  state::Federation federation_;
  std::unique_ptr<state::StateDb> db_;
  std::unique_ptr<keys::Signer> signer_;  // a PEM file or a PKCS#11 token
  std::unique_ptr<keys::SigningFence> fence_;  // beside the key; leaders only
  std::unique_ptr<Mempool> mempool_;
  std::unique_ptr<EmergencyControl> emergency_;
  // Held by the leader loop from the halt check until the block is
  // committed; HaltProduction takes it before the halt is recorded.
  std::mutex production_mu_;
  ControlQueue control_;
  std::unique_ptr<BackgroundProof> proof_;
  Status exit_status_;  // guarded by sync_mu_
  std::unique_ptr<httplib::Server> http_;
  std::string admin_token_;
  NodeCounters counters_;
  ArchiveProgress archive_progress_;
  int port_ = 0;

  std::thread worker_;
  std::thread http_thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  bool stopped_ = false;
  mutable std::mutex sync_mu_;
  SyncReport sync_;
};

}  // namespace ailee::node
