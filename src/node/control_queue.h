// Control records waiting for the leader's next block: a federation change
// from POST /v1/admin/federation-change, a peg freeze or unfreeze from
// POST /v1/admin/emergency. This is the node's one queue of them. The admin
// request waits until the block that carries its record is committed (or
// the record is refused), so its answer says what happened.
//
// The leader takes the queue at the head of each block (before the
// mempool's transactions, also while halted) and resolves each record
// afterwards: committed at height H, or refused with the sequencer's
// reason. A record whose wait times out before the leader took it is
// withdrawn (nothing changed); once taken, the wait lasts until its block
// is done or the node stops (Shutdown), whichever comes first.
//
// Nothing here is durable: a record is in the chain once its block is
// committed, and a kill -9 before that loses the request (the admin client
// sees its connection drop and the chain says whether it took effect).
// Thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "base/status.h"
#include "state/state_db.h"

namespace ailee::node {

class ControlQueue {
 private:
  struct Waiter;

 public:
  // Queues `tx` and waits for its block. The height of the block that
  // carries it; the sequencer's refusal (kInvalidArgument,
  // kFailedPrecondition); kUnavailable when no block took it within
  // `timeout` (withdrawn: nothing changed), or when the node stops first
  // (the message says whether the record may have been committed).
  Result<uint64_t> SubmitAndWait(state::Transaction tx, std::chrono::milliseconds timeout);

  // For the leader: the records to put at the head of the next block, in
  // arrival order. Each must then be resolved with Resolve().
  struct Taken {
    std::vector<state::Transaction> txs;
    std::vector<std::shared_ptr<Waiter>> waiters;
  };
  Taken Take();
  // Record i of `taken` went to position i of the block's input: committed
  // at `produced`'s height unless listed in its rejected; a block that was
  // not produced refuses them all. A waiter already released by Shutdown
  // keeps that answer.
  void Resolve(Taken& taken, const Result<state::ProducedBlock>& produced);

  // The node is stopping: every waiter is released now with kUnavailable,
  // queued ones withdrawn, taken ones told their block may have been
  // committed. Later submissions are refused at once. Idempotent.
  void Shutdown();

  bool empty() const;

 private:
  struct Waiter {
    std::string what;  // "peg freeze", "federation change": for the messages
    bool taken = false;
    std::optional<Result<uint64_t>> outcome;
  };
  struct Entry {
    state::Transaction tx;
    std::shared_ptr<Waiter> waiter;
  };
  mutable std::mutex mu_;
  std::condition_variable resolved_;
  std::deque<Entry> queue_;
  std::vector<std::shared_ptr<Waiter>> taken_;  // handed to the leader, not yet resolved
  bool stopping_ = false;
};

}  // namespace ailee::node
