#include "node/control_queue.h"

namespace ailee::node {

Result<uint64_t> ControlQueue::SubmitAndWait(state::Transaction tx, std::chrono::milliseconds timeout) {
  auto waiter = std::make_shared<std::promise<Result<uint64_t>>>();
  std::future<Result<uint64_t>> done = waiter->get_future();
  {
    std::lock_guard<std::mutex> lock(mu_);
    queue_.push_back({std::move(tx), waiter});
  }
  if (done.wait_for(timeout) == std::future_status::ready) return done.get();
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto it = queue_.begin(); it != queue_.end(); ++it) {
      if (it->waiter == waiter) {
        queue_.erase(it);
        return Unavailable("the leader produced no block within " + std::to_string(timeout.count()) +
                           " ms (catching up, halted without taking control records, or stopping); nothing changed");
      }
    }
  }
  // Taken by the leader: its block is being made; wait for the outcome.
  return done.get();
}

ControlQueue::Taken ControlQueue::Take() {
  std::lock_guard<std::mutex> lock(mu_);
  Taken out;
  for (auto& e : queue_) {
    out.txs.push_back(std::move(e.tx));
    out.waiters.push_back(std::move(e.waiter));
  }
  queue_.clear();
  return out;
}

void ControlQueue::Resolve(Taken& taken, const Result<state::ProducedBlock>& produced) {
  for (size_t i = 0; i < taken.waiters.size(); ++i) {
    if (!produced.ok()) {
      taken.waiters[i]->set_value(produced.status().WithContext("the block that was to carry it failed"));
      continue;
    }
    Status refused = Status::Ok();
    for (const auto& r : produced->rejected) {
      if (r.index == i) refused = r.reason;
    }
    if (refused.ok()) {
      taken.waiters[i]->set_value(produced->block.header.height);
    } else {
      taken.waiters[i]->set_value(refused);
    }
  }
  taken.waiters.clear();
}

bool ControlQueue::empty() const {
  std::lock_guard<std::mutex> lock(mu_);
  return queue_.empty();
}

}  // namespace ailee::node
