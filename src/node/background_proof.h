// BackgroundProof: the proof of a restored state that ailee-node runs while
// it already answers (docs/recovery.md, "Serving before the proof
// completes"). A data dir holding a proof-pending marker
// (state/proof_pending.h) was installed by a restore that skipped its proof;
// the node opens it, serves /v1/status, /v1/health and /metrics, and until
// this proof passes signs no block, applies none, and serves nothing else
// (node.h: gated()).
//
// The proof is verify-state's (state/verify.h: every block, signature,
// transaction and anchor, and the state root recomputed from scratch),
// against what the marker claims (height, tip block hash, state root). It
// runs on a RocksDB checkpoint of the open database taken first (hard links,
// in a scratch dir beside the data dir: ".<data dir name>.proof-<owner>-*",
// base/scratch.h), so nothing the node does while it runs can change what is
// proven; as the node applies nothing until proven, that checkpoint is the
// restored height.
//
// Outcomes: proven - the marker is removed durably, then the data dir the
// restore kept aside (the marker's previous_dir) is removed; failed - the
// marker stays and records the failure (every restart proves again), the
// kept-aside dir is untouched, and `done` gets kDataLoss saying what failed
// and what to do. Crash safety: killed at any moment, the marker is still
// there (it goes only after a passed proof) and the next start proves again;
// the scratch checkpoint of a killed run is removed by the next one.
//
// Thread safety: Start once; Snapshot, proven, Cancel from any thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "base/status.h"
#include "state/federation.h"
#include "state/proof_pending.h"
#include "state/state_db.h"

namespace ailee::node {

struct BackgroundProofOptions {
  std::string data_dir;
  state::ProofPending marker;
  state::Federation federation;  // the genesis federation: signatures are checked
  // At most this many blocks per second (0: as fast as it can): a node that
  // serves keeps its share of the disk and the cores.
  int64_t max_blocks_per_second = 0;
};

// What /v1/status "proof" and /metrics show.
struct ProofProgress {
  std::string state;  // "running", "proven", "failed"
  std::string phase;  // verify's: blocks, transactions, anchors, state, localize
  uint64_t done = 0;
  uint64_t total = 0;
  int64_t started_at_ms = 0;
  int64_t finished_at_ms = 0;  // 0 while running
  std::string problem;         // when failed
};

// Records `problem` as the failed proof of the restored state `marker`
// names in `data_dir` (the marker stays, with last_failure) and returns the
// kDataLoss the node stops with: what failed, and what to do (restore again,
// or put the kept-aside data dir back). IsFailedProof is true for it.
Status RecordFailedProof(const std::string& data_dir, const state::ProofPending& marker, const std::string& problem);
// True for a status RecordFailedProof returned: ailee-node exits 3 on it.
bool IsFailedProof(const Status& st);
// `open_error` from opening `data_dir`'s database: when the database is
// damaged (kDataLoss) and the data dir holds a restored state still to be
// proven, that state has failed its proof before it could start (a table
// file swapped or damaged since the restore): RecordFailedProof. Otherwise
// `open_error` unchanged (a database in use is not a failed proof).
Status FailedProofIfPending(const std::string& data_dir, const Status& open_error);

class BackgroundProof {
 public:
  explicit BackgroundProof(BackgroundProofOptions options);
  ~BackgroundProof();  // cancels and joins
  BackgroundProof(const BackgroundProof&) = delete;
  BackgroundProof& operator=(const BackgroundProof&) = delete;

  // Starts the proof thread on `db` (which must outlive Join). `done` is
  // called once from that thread with the outcome: ok (proven, marker
  // removed), kDataLoss (failed: what and what to do), or another error
  // (the proof could not run; the marker stays). Not called when cancelled.
  void Start(state::StateDb& db, std::function<void(const Status&)> done);
  // Asks a running proof to stop (between blocks and passes); no wait.
  void Cancel();
  void Join();

  bool proven() const { return proven_.load(); }
  const state::ProofPending& marker() const { return options_.marker; }
  ProofProgress Snapshot() const;

 private:
  void Run(state::StateDb& db, const std::function<void(const Status&)>& done);
  Status Prove(state::StateDb& db);
  void OnProgress(const std::string& phase, uint64_t done, uint64_t total);
  Status Fail(const std::string& problem);

  BackgroundProofOptions options_;
  std::atomic<bool> cancel_{false};
  std::atomic<bool> proven_{false};
  mutable std::mutex mu_;
  std::condition_variable cv_;  // wakes a paced sleep on Cancel
  ProofProgress progress_;
  int64_t started_ns_ = 0;
  std::thread thread_;
};

}  // namespace ailee::node
