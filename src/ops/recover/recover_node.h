// recover-node: one call that brings a lost node back (docs/recovery.md),
// composing the jobs that exist for each part, in five phases:
//   1. config  - this node's config: kept when it loads and validates, else
//                its latest config snapshot (scope: the node id) restored to
//                the original paths, secrets with the secrets passphrase,
//                then validated (ops/config/restore.h);
//   2. key     - the signer key (none on a follower): a key file kept when
//                it exists, else restored from a local key backup with its
//                signing fence (keys/backup.h, as `keys restore`); a PKCS#11
//                key kept when its token holds it under the config's label
//                with the federation's fingerprint (another key there is
//                refused), else imported from the key backup (as `keys
//                restore --to-pkcs11`), its fence restored beside the config
//                (keys/signing_fence.h); the backup's passphrase from share
//                files or a secret source, the PIN from the config's pin file
//                or AILEE_PKCS11_PIN; then the test-signer check against the
//                federation key;
//   3. state   - the freshest trustworthy source: a peer's live checkpoint
//                (with that peer's admin token) or this node's newest state
//                snapshot rolled forward with the block archive; each is
//                proven on a staged tree before it is swapped in; a data dir
//                already at or above every source is kept;
//   4. start   - `systemctl start ailee-node` when the unit is installed and
//                systemd runs, else with `start` the node spawned detached,
//                else the exact command is returned and the run stops there;
//                then waits until the node has caught up (a leader: fenced
//                and caught up, node::WaitForSync);
//   5. health  - the deep health check (node::CheckHealth).
// With prove_in_background the state phase restores a repository snapshot
// without its proof (restore --prove-in-background: a proof-pending marker,
// the replaced data dir kept aside), the node proves it when it starts, and
// the start phase reports when it answered with the proof running and when
// the proof passed (rto_serving_ms, rto_proven_ms). A failed proof stops the
// node and fails the start phase with what failed (kDataLoss).
//
// Refusals, before anything is changed: the node still running (its API
// answers or a process holds its data dir) while the state is not yet
// recovered; a journal of another node. A fork (the data dir's block at the source's
// height is another one) is refused by the checkpoint apply.
//
// Idempotent and resumable: each finished phase is recorded in the journal
// (ops/recover/journal.h) with what it produced; a rerun skips it (a state
// phase only while the data dir still holds at least the height recorded,
// so a node that ran on is never restored over). The journal is removed once
// every phase passed. Every phase is one audit line ("recover-node.<phase>").
// The report (RecoverNodeResult::ToJson) is also written beside the journal.
//
// Not thread-safe; one run per node at a time (the data dir swap and the
// node's own lock refuse a second).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "audit/audit_log.h"
#include "base/status.h"
#include "config/config.h"
#include "crypto/secure.h"
#include "keys/backup_passphrase.h"
#include "repo/repository.h"

namespace ailee::ops {

struct RecoverStep {
  std::string phase;     // config, key, state, start, health
  std::string action;    // what will be done
  std::string source;    // where from ("" when nothing is read)
  uint64_t bytes = 0;    // to fetch or copy (0: unknown or nothing)
  int64_t expected_ms = 0;
  std::string replaces;  // what is replaced ("" nothing)
  bool finished_before = false;  // recorded in the journal: skipped
};

struct RecoverPhase {
  std::string phase;
  std::string outcome;  // "done", "kept", "skipped: finished in an earlier run", "not started"
  int64_t duration_ms = 0;
  nlohmann::json detail = nlohmann::json::object();
};

struct RecoverNodeOptions {
  std::string node_id;      // required
  std::string config_path;  // the node's config file (restored there when missing)
  const crypto::SecureBytes* secrets_passphrase = nullptr;  // config secrets
  // A local key backup (file or directory, `keys backup --out`), read only
  // when the signer key is missing (a key file, or a PKCS#11 key not on its
  // token); its passphrase is read then: recombined from share files when
  // they are given, else from the secret source. A PKCS#11 signer's fence
  // is raised from it whenever it is given.
  std::string key_backup;
  keys::BackupPassphraseSource key_passphrase;
  // A peer's admin token file: lets the state phase take that peer's live
  // checkpoint. The peer writes it to a directory beside this node's data
  // dir, so the peer must see that path (same host or shared filesystem).
  std::string peer_admin_token_file;
  bool start = false;          // spawn the node when no systemd unit starts it
  // Restore from the repository without the proof; the node proves the
  // state in the background before it signs or serves (docs/recovery.md).
  bool prove_in_background = false;
  std::string node_binary = "ailee-node";
  int64_t sync_wait_ms = 300000;
  bool dry_run = false;
  audit::AuditLog* audit = nullptr;
  // Called with the plan before the first change (not in a dry run); an
  // error stops the run there, unchanged.
  std::function<Status(const std::vector<RecoverStep>&)> confirm;
  std::function<void(const std::string& phase, const std::string& what)> progress;
};

struct RecoverNodeResult {
  std::string node_id;
  bool dry_run = false;
  std::vector<RecoverStep> plan;
  std::vector<RecoverPhase> phases;  // the phases run (or skipped) this time
  bool complete = false;             // every phase passed
  std::string next;                  // what the operator does next when not complete
  int64_t rto_ms = 0;                // from the journal's start (first run) to now
  // With prove_in_background, from the journal's start: to the node
  // answering with its proof running, and to the proof passed.
  std::optional<int64_t> rto_serving_ms;
  std::optional<int64_t> rto_proven_ms;
  std::optional<uint64_t> network_tip;       // the highest peer's height when the run began
  uint64_t recovered_height = 0;             // what the state phase put in place
  std::optional<uint64_t> rpo_blocks;
  std::optional<double> rpo_seconds;
  std::vector<std::string> sources;  // every source used
  std::string node_url;
  int node_pid = 0;                  // spawned here (start), else 0
  std::string report_path;

  nlohmann::ordered_json ToJson() const;
};

// The node config at `path` as far as recovery needs it: valid except,
// perhaps, for a signer key file that is missing (phase 2 restores it).
// kNotFound when there is no file; kInvalidArgument listing other problems.
Result<config::NodeConfig> LoadConfigForRecovery(const std::string& path);
// Its problems (the same rule); what the config restore validates with.
std::vector<config::ConfigProblem> ConfigProblemsForRecovery(const std::string& path);

Result<RecoverNodeResult> RecoverNode(repo::Repository& repo, const RecoverNodeOptions& options);

}  // namespace ailee::ops
