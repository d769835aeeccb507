// Mempool: transactions accepted by POST /v1/tx and waiting for the next
// block. Admission checks what can be checked before execution: shape,
// signature, that the sender exists, balance against committed state, and
// that the nonce is the next one for the sender counting transactions already
// pending (so a client can submit nonces n, n+1, n+2 within one block).
// The sequencer re-validates everything when it builds the block.
// Thread-safe.
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

  // Removes and returns up to `max` transactions in arrival order.
  std::vector<state::Transaction> Take(size_t max);

  // After a block: forget pending nonces so they are recomputed from state.
  void OnBlockCommitted();

  size_t size() const;

 private:
  static std::string SenderKey(const state::Transaction& tx);

  const state::StateDb& db_;
  const state::Federation& federation_;
  const size_t capacity_;
  mutable std::mutex mu_;
  std::deque<state::Transaction> queue_;
  std::set<crypto::Hash256> ids_;                 // ids in queue_ (duplicate detection)
  struct Pending {
    uint64_t next_nonce = 0;
    uint64_t spendable = 0;  // committed balance minus pending outgoing amounts
  };
  std::map<std::string, Pending> pending_;       // senders with transactions in the queue
  std::set<std::string> pending_btc_txids_;
};

}  // namespace ailee::node
