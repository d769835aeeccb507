#include "node/control_queue.h"

#include <algorithm>

namespace ailee::node {
namespace {

// What the operator asked for, in the words of the admin command.
std::string RecordName(const state::Transaction& tx) {
  if (tx.peg_freeze) return tx.peg_freeze->frozen ? "peg freeze" : "peg unfreeze";
  if (tx.federation_change) return "federation change";
  return std::string(state::TxTypeName(tx.type));
}

std::string Duration(std::chrono::milliseconds d) {
  if (d.count() < 1000) return std::to_string(d.count()) + " ms";
  return std::to_string(d.count() / 1000) + " s";
}

Status Stopping(const std::string& what, bool taken) {
  return Unavailable("the node is stopping; the " + what + " record " +
                     (taken ? "may have been committed: check `ailee-cli emergency status` after its restart"
                            : "was not committed (nothing changed)"));
}

}  // namespace

Result<uint64_t> ControlQueue::SubmitAndWait(state::Transaction tx, std::chrono::milliseconds timeout) {
  auto waiter = std::make_shared<Waiter>();
  waiter->what = RecordName(tx);
  std::unique_lock<std::mutex> lock(mu_);
  if (stopping_) return Stopping(waiter->what, false);
  queue_.push_back({std::move(tx), waiter});
  if (resolved_.wait_for(lock, timeout, [&] { return waiter->outcome.has_value(); })) return *waiter->outcome;
  if (!waiter->taken) {
    std::erase_if(queue_, [&](const Entry& e) { return e.waiter == waiter; });
    return Unavailable("the leader produced no block within " + Duration(timeout) + ", so the " + waiter->what +
                       " was withdrawn (nothing changed); see the node's sync state in /v1/status");
  }
  // Taken by the leader: its block is being made, and Resolve or Shutdown
  // ends this wait.
  resolved_.wait(lock, [&] { return waiter->outcome.has_value(); });
  return *waiter->outcome;
}

ControlQueue::Taken ControlQueue::Take() {
  std::lock_guard<std::mutex> lock(mu_);
  Taken out;
  for (auto& e : queue_) {
    e.waiter->taken = true;
    out.txs.push_back(std::move(e.tx));
    out.waiters.push_back(e.waiter);
    taken_.push_back(std::move(e.waiter));
  }
  queue_.clear();
  return out;
}

void ControlQueue::Resolve(Taken& taken, const Result<state::ProducedBlock>& produced) {
  std::lock_guard<std::mutex> lock(mu_);
  for (size_t i = 0; i < taken.waiters.size(); ++i) {
    Waiter& w = *taken.waiters[i];
    std::erase(taken_, taken.waiters[i]);
    if (w.outcome) continue;  // released by Shutdown
    if (!produced.ok()) {
      w.outcome = produced.status().WithContext("the block that was to carry it failed");
      continue;
    }
    w.outcome = produced->block.header.height;
    for (const auto& r : produced->rejected) {
      if (r.index == i) w.outcome = r.reason;
    }
  }
  taken.waiters.clear();
  resolved_.notify_all();
}

void ControlQueue::Shutdown() {
  std::lock_guard<std::mutex> lock(mu_);
  stopping_ = true;
  for (auto& e : queue_) e.waiter->outcome = Stopping(e.waiter->what, false);
  queue_.clear();
  for (auto& w : taken_) {
    if (!w->outcome) w->outcome = Stopping(w->what, true);
  }
  taken_.clear();
  resolved_.notify_all();
}

bool ControlQueue::empty() const {
  std::lock_guard<std::mutex> lock(mu_);
  return queue_.empty();
}

}  // namespace ailee::node
