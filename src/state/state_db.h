// StateDb: the L2 node's state database (RocksDB underneath, never exposed).
//
// Contents: blocks, transactions, the state (accounts, peg-ins, peg-outs,
// federation signer nonces, and the `control` records: federation epochs and
// the peg freeze), anchor commitments, per-block write sets, the state-root
// accumulator, and node-local flags outside the state (`local`). Formats:
// docs/state-format.md.
//
// Federations: every `const Federation& federation` parameter is the
// GENESIS federation (the config's). Later epochs come from the chain's
// federation_change transactions; blocks, anchors and peg-ins at height H
// are checked against the epoch in force at H. The epochs and the freeze are
// cached in memory (refreshed on commit), so the block path never reads the
// control column family.
//
// Crash behaviour: each block -- state writes, block, transactions, write set,
// anchor, accumulator and tip -- is one RocksDB WriteBatch written with
// sync=true (WAL fsynced before the call returns). After kill -9 or power loss
// the database reopens at the last block whose ProduceBlock/ApplyBlock
// returned OK, or possibly at the block being written if the WAL record hit
// the disk; never in between. ApplyBlock with WalSync::kDeferred (a
// follower's page of fetched blocks) writes its batch without the fsync:
// kill -9 keeps it, a power loss may drop it and every later block up to the
// next SyncWal() or synced write, so the database reopens at an earlier
// whole block (the follower fetches the rest again).
//
// Thread safety: all methods may be called concurrently. Writers
// (ProduceBlock, ApplyBlock) and CreateCheckpoint are serialized by one apply
// lock; readers never block on it and see the state as of the last committed
// block (or the one before, if they race a commit). One process at a time may
// open a directory read-write (RocksDB's LOCK file; a second open fails with
// kUnavailable). Read-only opens take no lock.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "state/database_file_facts.h"
#include "crypto/asymmetric.h"
#include "crypto/hash.h"
#include "state/block.h"
#include "state/control_records.h"
#include "state/federation.h"
#include "state/federation_history.h"
#include "state/records.h"
#include "state/transaction.h"

namespace ailee::state {

struct OpenOptions {
  // Read-only opens (OpenForReadOnly) work on checkpoints and on stopped
  // nodes' directories; every write method then fails with kFailedPrecondition.
  bool read_only = false;
  bool create_if_missing = true;
  // False: no compaction runs while the database is open (a read-write open
  // still replays its WAL as recovery needs). For a short read-write open
  // that only reads, like the offline checkpoint: a compaction would compete
  // with it for the disk and replace table files an incremental backup would
  // otherwise find unchanged. The node's next start compacts as usual.
  bool compact = true;
};

struct ChainTip {
  uint64_t height = 0;                 // 0 = empty genesis state, no block yet
  crypto::Hash256 block_hash{};        // zeros at height 0
  crypto::Hash256 state_root{};        // EmptyStateRoot() at height 0
  int64_t timestamp_ms = 0;
  std::optional<uint64_t> last_anchor_height;
};

struct RejectedTx {
  size_t index = 0;  // position in the input of ProduceBlock
  crypto::Hash256 tx_id{};
  Status reason;
};

struct ProducedBlock {
  Block block;                     // header, accepted transactions, anchor if any
  std::vector<RejectedTx> rejected;
};

struct CheckpointInfo {
  std::string dir;
  uint64_t height = 0;
  crypto::Hash256 block_hash{};
  crypto::Hash256 state_root{};
  // For each table file in `dir`, by name ("000123.sst"): what
  // ReadDatabaseFileFacts would read from it, taken from the table readers
  // the open database holds already (a backup then opens no table file for
  // its identity; issue 16). A table the database no longer lists is absent.
  std::map<std::string, DatabaseFileFacts> table_facts;
};

struct Stats {
  uint64_t height = 0;
  uint64_t total_transactions = 0;
  uint64_t live_data_bytes = 0;    // live SST files + WAL files
  uint64_t accounts_estimate = 0;  // RocksDB's key-count estimate
};

struct StateRootCheck {
  uint64_t height = 0;
  crypto::Hash256 header_root{};      // the tip block's state root (EmptyStateRoot at 0)
  crypto::Hash256 persisted_root{};   // SHA-256 of the persisted accumulator
  crypto::Hash256 recomputed_root{};  // from scratch over every state entry
  uint64_t entries = 0;
  bool ok() const { return header_root == persisted_root && persisted_root == recomputed_root; }
};

class StateDb {
 public:
  // Opens (creating if allowed) the state database in `dir`.
  // kUnavailable if another process holds it read-write; kNotFound if
  // read-only and there is no database; kDataLoss if it is not ours or damaged.
  static Result<std::unique_ptr<StateDb>> Open(const std::string& dir, const OpenOptions& options);
  ~StateDb();
  StateDb(const StateDb&) = delete;
  StateDb& operator=(const StateDb&) = delete;

  ChainTip Tip() const;

  // Validates `tx` against the current committed state (shape, signature,
  // nonce, balance, duplicate peg-in) without changing anything: the check
  // behind POST /v1/tx. kInvalidArgument naming the field on a bad tx.
  // `verified`: transfers and peg-outs whose signature the caller checked
  // (transaction.h, VerifiedTxIds); those are not verified again. `tx_id`:
  // TxId(tx) when the caller has it (saves hashing it again).
  Status CheckTransaction(const Transaction& tx, const Federation& federation,
                          const VerifiedTxIds* verified = nullptr, const crypto::Hash256* tx_id = nullptr) const;

  // Sequencer. Validates `txs` in order against the evolving state, drops
  // the invalid ones (reported in `rejected`), builds, signs (with `signer`,
  // which must be federation signer `signer_id`) and atomically applies block
  // Tip().height + 1. When commitment_interval > 0 and the new height is a
  // multiple of it, also signs and stores the anchor commitment. Produces an
  // empty block when no tx is valid. `timestamp_ms` must not go back in time.
  Result<ProducedBlock> ProduceBlock(std::vector<Transaction> txs, const crypto::PrivateKey& signer,
                                     const std::string& signer_id, int64_t timestamp_ms,
                                     uint64_t commitment_interval, const Federation& federation);
  // The same with the key behind a signing function (e.g. a PKCS#11 token).
  // `before_commit`, when set, sees the signed block before it is committed
  // (e.g. to record it in the signer's fence); an error from it aborts the
  // block and nothing is committed. `verified` (the mempool's, may be null):
  // transfers and peg-outs in `txs` whose signature was checked at intake
  // are not verified again; every other check runs as always.
  using BeforeCommitFn = std::function<Status(const Block&)>;
  Result<ProducedBlock> ProduceBlock(std::vector<Transaction> txs, const SignFn& sign,
                                     const std::string& signer_id, int64_t timestamp_ms,
                                     uint64_t commitment_interval, const Federation& federation,
                                     const BeforeCommitFn& before_commit = {},
                                     const VerifiedTxIds* verified = nullptr);

  // Follower. Checks height == tip + 1, prev_hash, timestamp, the signature
  // under header.signer_id's federation key, tx_root, the anchor (present
  // exactly at multiples of commitment_interval, signed, matching); then
  // re-executes every transaction and compares the resulting state root with
  // the header's. kInvalidArgument for a malformed/forged block or an invalid
  // transaction, kDataLoss when a correctly signed block's state root differs
  // from ours (our state diverged or the signer misbehaved), kFailedPrecondition
  // for a height that does not follow the tip. On any error nothing is written.
  // Applying the block that is already the tip is rejected, not ignored.
  // `wal_sync`: kEachBlock fsyncs the block's WAL record before returning;
  // kDeferred leaves that to a later SyncWal() (see "Crash behaviour").
  enum class WalSync { kEachBlock, kDeferred };
  Status ApplyBlock(const Block& block, const Federation& federation, uint64_t commitment_interval,
                    WalSync wal_sync = WalSync::kEachBlock);
  // Fsyncs the WAL: every block applied so far survives a power loss.
  Status SyncWal();

  // kNotFound when absent. GetAccount takes the 64-hex-char account id.
  Result<Block> GetBlock(uint64_t height) const;
  Result<Account> GetAccount(const std::string& account_id_hex) const;
  Result<AnchorCommitment> GetAnchor(uint64_t height) const;
  std::optional<AnchorCommitment> LastAnchor() const;
  Result<PegInRecord> GetPegIn(const std::string& btc_txid_hex) const;
  // The next peg-in nonce of a federation signer (0 when it never signed one).
  uint64_t SignerNonce(const std::string& signer_id) const;
  // Transaction by id and the height of the block that included it.
  struct IncludedTx {
    Transaction tx;
    uint64_t height = 0;
  };
  Result<IncludedTx> GetTransaction(const crypto::Hash256& tx_id) const;

  // A consistent RocksDB checkpoint (SST hard links, MANIFEST/WAL copies,
  // memtables flushed first) into `dir`, which must not exist (kAlreadyExists).
  // Taken under the apply lock, so it is exactly at a block boundary: the
  // returned height/hash/root are the checkpoint's tip. A crash halfway leaves
  // a partial `dir` that never opens as complete (RocksDB writes CURRENT last
  // into a temporary directory and renames it); delete it and retry.
  Result<CheckpointInfo> CreateCheckpoint(const std::string& dir);

  Stats GetStats() const;

  // Streams the whole state once (2 threads) from a consistent snapshot and
  // compares the from-scratch root with the persisted accumulator and the tip
  // header. Cost O(state size); for verification, not the block path.
  Result<StateRootCheck> RecomputeStateRoot() const;

  // Genesis + the chain's epochs (each re-checked against the one before).
  // kFailedPrecondition when epoch 1 does not replace `genesis` (the
  // config's federation was edited after a rotation).
  Result<FederationHistory> Federations(const Federation& genesis) const;
  // Set while peg-ins and peg-outs are frozen (as of the committed tip).
  std::optional<PegFreezeState> PegsFrozen() const;

  // Node-local flags (the `local` column family): not in the state root, not
  // verified, copied by checkpoints. PutLocal/DeleteLocal are synced writes
  // (kFailedPrecondition when open read-only); GetLocal of a database made
  // before `local` existed reads nothing.
  Result<std::optional<std::string>> GetLocal(std::string_view key) const;
  Status PutLocal(std::string_view key, std::string_view value);
  Status DeleteLocal(std::string_view key);

  const std::string& dir() const;

 private:
  struct Impl;
  explicit StateDb(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ailee::state
