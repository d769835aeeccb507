// Control records waiting for the leader's next block: a federation change
// from POST /v1/admin/federation-change, a peg freeze from the emergency
// endpoint. The admin request waits until the block that carries its record
// is committed (or the record is refused), so its answer says what happened.
//
// The leader takes the queue at the head of each block (before the
// mempool's transactions) and resolves each record afterwards: committed at
// height H, or refused with the sequencer's reason. A record whose wait
// times out before the leader took it is withdrawn (nothing changed); once
// taken, the wait lasts until its block is done. Thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <future>
#include <memory>
#include <mutex>
#include <vector>

#include "base/status.h"
#include "state/state_db.h"

namespace ailee::node {

class ControlQueue {
 public:
  // Queues `tx` and waits for its block. The height of the block that
  // carries it; the sequencer's refusal (kInvalidArgument,
  // kFailedPrecondition); or kUnavailable when no block took it within
  // `timeout` (withdrawn: nothing changed).
  Result<uint64_t> SubmitAndWait(state::Transaction tx, std::chrono::milliseconds timeout);

  // For the leader: the records to put at the head of the next block, in
  // arrival order. Each must then be resolved with Resolve().
  struct Taken {
    std::vector<state::Transaction> txs;
    std::vector<std::shared_ptr<std::promise<Result<uint64_t>>>> waiters;
  };
  Taken Take();
  // Record i of `taken` went to position i of the block's input: committed
  // at `produced`'s height unless listed in its rejected; `failure` (when
  // the block was not produced) refuses them all.
  static void Resolve(Taken& taken, const Result<state::ProducedBlock>& produced);

  bool empty() const;

 private:
  struct Entry {
    state::Transaction tx;
    std::shared_ptr<std::promise<Result<uint64_t>>> waiter;
  };
  mutable std::mutex mu_;
  std::deque<Entry> queue_;
};

}  // namespace ailee::node
