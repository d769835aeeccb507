// Mempool: transactions accepted by POST /v1/tx (and /v1/txs) and waiting
// for the next block. Admission checks what can be checked before execution:
// shape, signature, that the sender exists, balance against committed state,
// and that the nonce is the next one for the sender counting transactions
// already pending (so a client can submit nonces n, n+1, n+2 within one
// block). The sequencer re-validates everything when it builds the block
// except the signatures of transfers and peg-outs, which are verified once,
// here: Take() hands their ids (over the exact signed bytes) to ProduceBlock.
// Thread-safe. Signatures are verified outside the lock, so the HTTP worker
// threads verify in parallel; the stateful checks and the queue take the lock.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "base/status.h"
#include "state/state_db.h"

namespace ailee::node {

class Mempool {
 public:
  Mempool(const state::StateDb& db, const state::Federation& federation, size_t capacity)
      : db_(db), federation_(federation), capacity_(capacity) {}

  // kInvalidArgument with a message naming the problem; kResourceExhausted
  // when full (clients retry later); kAlreadyExists for a duplicate tx;
  // kFailedPrecondition for a peg-in/peg-out while pegs are frozen;
  // kPermissionDenied for a control record (admin endpoints only).
  // `federation` is the GENESIS federation; peg-ins are checked against the
  // epoch the next block is in.
  Result<crypto::Hash256> Submit(state::Transaction tx);
  // Submit for each of `txs` in order (a sender's nonces n, n+1 may follow
  // each other in one batch), one result per transaction; the signatures are
  // verified on up to `threads` threads first, then every transaction is
  // admitted under one lock.
  std::vector<Result<crypto::Hash256>> SubmitBatch(std::vector<state::Transaction> txs, int threads);

  // Up to `max` transactions in arrival order, removed from the pool, and
  // the ids of those whose signature Submit verified (for ProduceBlock).
  struct Taken {
    std::vector<state::Transaction> txs;
    state::VerifiedTxIds verified;
  };
  Taken Take(size_t max);

  // After a block: forget pending nonces so they are recomputed from state.
  void OnBlockCommitted();

  size_t size() const;

 private:
  static std::string SenderKey(const state::Transaction& tx);
  // The checks that need neither the lock nor the queue: the control-record
  // refusal, the signature (peg-ins: under the epoch of the next block), a
  // peg while frozen.
  Status CheckStateless(const state::Transaction& tx) const;
  // Duplicate, capacity, nonce and balance against state and the queue;
  // queues `tx` (whose signature CheckStateless verified; `id` is its
  // TxId). mu_ held.
  Result<crypto::Hash256> AdmitLocked(state::Transaction tx, const crypto::Hash256& id);

  const state::StateDb& db_;
  const state::Federation& federation_;
  const size_t capacity_;
  mutable std::mutex mu_;
  struct Queued {
    state::Transaction tx;
    crypto::Hash256 id;
  };
  std::deque<Queued> queue_;
  std::set<crypto::Hash256> ids_;                 // ids in queue_ (duplicate detection)
  struct Pending {
    uint64_t next_nonce = 0;
    uint64_t spendable = 0;  // committed balance minus pending outgoing amounts
  };
  std::map<std::string, Pending> pending_;       // senders with transactions in the queue
  std::set<std::string> pending_btc_txids_;
};

}  // namespace ailee::node
