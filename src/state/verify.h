// Offline verification of a state database: the check behind
// `ailee-cli verify-state DIR` and behind backup verification.
//
// Opens DIR read-only (no lock, nothing written: safe on a checkpoint, a
// restored backup or a stopped node; on a running node's directory it may
// report spurious errors as files change underneath). Checks:
//   - blocks 1..tip are contiguous, each prev_hash links to the previous
//     block's hash, timestamps do not decrease, the last one is meta's tip;
//   - each block's signature (when a Federation is given), its tx_root, and
//     that every listed transaction is stored, hashes to its id, records that
//     height and (for account txs always, peg-ins with a Federation) verifies;
//   - every anchor commitment: payload layout and checksum, signature (with
//     a Federation), and that it commits to the stored block at its height;
//   - across federation epochs: with the GENESIS federation given, the
//     epochs are rebuilt from the control column family (each re-checked
//     against the one before) and every block, anchor and peg-in is checked
//     against the epoch in force at its height; the federation_change
//     transactions in the blocks and the stored epochs must agree one to
//     one (a problem naming the height otherwise);
//   - the state root recomputed from scratch over every state entry equals
//     the tip header's state root and the persisted accumulator (and
//     `expected_state_root` when given).
// On a state-root mismatch it localizes: every state entry is matched against
// the latest write set that wrote its key (SHA-256 of the value), reporting
// changed, injected and deleted keys by name. That pass holds one entry per
// state key in memory (~100 bytes each).
//
// Only the tip's state root is checked; older blocks' roots would need a full
// replay, which this does not do.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "crypto/hash.h"
#include "state/federation.h"

namespace ailee::state {

struct VerifyProgress {
  std::string phase;  // "blocks", "transactions", "anchors", "state", "localize"
  uint64_t done = 0;
  uint64_t total = 0;  // 0 when unknown
};

struct VerifyOptions {
  std::optional<Federation> federation;  // the GENESIS federation; without it, signatures are not checked
  std::optional<crypto::Hash256> expected_state_root;
  // Called from the calling thread: after every block, then once per later pass.
  std::function<void(const VerifyProgress&)> progress;
  int threads = 2;                                      // for the transaction pass and the state scan
  // Re-verify every transaction's own signature (~60-170 us each). Off by
  // default: block signatures over tx_root authenticate the transactions, and
  // the sequencer and every follower verified them when they were applied.
  bool check_transaction_signatures = false;
  size_t max_problems = 100;                            // further problems are counted, not listed
  // The transaction pass holds at most this many (id, height, index) slots
  // (48 bytes each: 96 MB by default) and checks the chain's transactions
  // in windows of id ranges, each window reading only its own slice of the
  // transactions column family: the memory bound on any chain length with
  // each transaction record read once. A chain with more slots re-reads the
  // (small) blocks column family once per further window.
  size_t max_tx_slots = 2'000'000;
  // Set: checked between blocks and between the passes; once true,
  // VerifyState stops and returns kAborted (a node stopping during its
  // background proof). The state scan itself runs to its end.
  const std::atomic<bool>* cancel = nullptr;
};

struct VerifyReport {
  bool ok = false;
  uint64_t tip_height = 0;
  crypto::Hash256 tip_block_hash{};
  crypto::Hash256 state_root{};  // recomputed from scratch
  uint64_t blocks_checked = 0;
  uint64_t transactions_checked = 0;
  uint64_t anchors_checked = 0;
  uint64_t entries_checked = 0;
  uint64_t problems_total = 0;
  // Human-readable, most specific first: bad blocks by height, then damaged
  // state keys, then the resulting root mismatch.
  std::vector<std::string> problems;
};

// An error Status only when verification could not run (kNotFound: no DB;
// kDataLoss: cannot be opened at all; kAborted: options.cancel was set). Damage found is reported in the report.
Result<VerifyReport> VerifyState(const std::string& dir, const VerifyOptions& options);

}  // namespace ailee::state
