#include "node/mempool.h"

#include "base/hex.h"
#include "base/parallel.h"

namespace ailee::node {

std::string Mempool::SenderKey(const state::Transaction& tx) {
  if (tx.type == state::TxType::kPegIn) return "signer:" + tx.signer_id;
  return "acct:" + tx.from;
}

Status Mempool::CheckStateless(const state::Transaction& tx) const {
  if (state::IsControlTx(tx.type)) {
    return PermissionDenied(std::string(state::TxTypeName(tx.type)) +
                            ": control records go through the admin interface (ailee-cli federation apply, "
                            "ailee-cli emergency), not POST /v1/tx");
  }
  if (tx.type == state::TxType::kPegIn) {
    // Signed by a member of the epoch the next block is in, not the genesis.
    ASSIGN_OR_RETURN(state::FederationHistory history, db_.Federations(federation_));
    RETURN_IF_ERROR(state::CheckSignature(tx, history.At(db_.Tip().height + 1)));
  } else {
    RETURN_IF_ERROR(state::CheckSignature(tx, federation_));
  }
  // Frozen: the committed state's check names since when and why.
  if (state::IsPegTx(tx.type) && db_.PegsFrozen()) RETURN_IF_ERROR(db_.CheckTransaction(tx, federation_));
  return Status::Ok();
}

Result<crypto::Hash256> Mempool::Submit(state::Transaction tx) {
  RETURN_IF_ERROR(CheckStateless(tx));
  const crypto::Hash256 id = state::TxId(tx);
  std::lock_guard<std::mutex> lock(mu_);
  return AdmitLocked(std::move(tx), id);
}

std::vector<Result<crypto::Hash256>> Mempool::SubmitBatch(std::vector<state::Transaction> txs, int threads) {
  std::vector<Status> checked(txs.size());
  std::vector<crypto::Hash256> ids(txs.size());
  // Each index's own slots: the workers never share one. The tx id is hashed
  // here, once, outside the lock.
  (void)ParallelFor(txs.size(), threads, [&](size_t i, int) {
    checked[i] = CheckStateless(txs[i]);
    if (checked[i].ok()) ids[i] = state::TxId(txs[i]);
    return Status::Ok();
  });
  std::vector<Result<crypto::Hash256>> out;
  out.reserve(txs.size());
  std::lock_guard<std::mutex> lock(mu_);
  for (size_t i = 0; i < txs.size(); ++i) {
    if (checked[i].ok()) {
      out.push_back(AdmitLocked(std::move(txs[i]), ids[i]));
    } else {
      out.push_back(std::move(checked[i]));
    }
  }
  return out;
}

Result<crypto::Hash256> Mempool::AdmitLocked(state::Transaction tx, const crypto::Hash256& id) {
  if (queue_.size() >= capacity_) return ResourceExhausted("mempool full (" + std::to_string(capacity_) + " transactions); retry after the next block");
  if (ids_.count(id)) return AlreadyExists("transaction " + crypto::HashToHex(id) + " is already pending");

  const std::string sender = SenderKey(tx);
  auto pending = pending_.find(sender);
  uint64_t spendable = 0;
  if (pending == pending_.end()) {
    // Nothing pending for this sender: the committed state decides
    // everything but the signature, which CheckStateless verified.
    const state::VerifiedTxIds verified = {id};
    RETURN_IF_ERROR(db_.CheckTransaction(tx, federation_, &verified, &id));
    if (tx.type != state::TxType::kPegIn) {
      auto acct = db_.GetAccount(state::AccountIdHex(tx.from));
      if (acct.ok()) spendable = acct->balance;
    }
  } else {
    if (tx.nonce != pending->second.next_nonce) {
      return InvalidArgument("nonce: expected " + std::to_string(pending->second.next_nonce) +
                             " (next after pending), found " + std::to_string(tx.nonce));
    }
    spendable = pending->second.spendable;
  }
  if (tx.type != state::TxType::kPegIn && spendable < tx.amount) {
    return InvalidArgument("amount: insufficient balance counting pending transactions (" + std::to_string(spendable) +
                           " < " + std::to_string(tx.amount) + ")");
  }
  if (tx.type == state::TxType::kPegIn) {
    if (!pending_btc_txids_.insert(tx.btc_txid).second)
      return InvalidArgument("btc_txid: peg-in " + HexEncode(tx.btc_txid) + " is already pending");
  }
  pending_[sender] = {tx.nonce + 1, tx.type == state::TxType::kPegIn ? 0 : spendable - tx.amount};
  ids_.insert(id);
  queue_.push_back({std::move(tx), id});
  return id;
}

Mempool::Taken Mempool::Take(size_t max) {
  std::lock_guard<std::mutex> lock(mu_);
  Taken out;
  size_t n = std::min(max, queue_.size());
  out.txs.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    Queued& q = queue_.front();
    ids_.erase(q.id);
    if (q.tx.type == state::TxType::kPegIn) pending_btc_txids_.erase(q.tx.btc_txid);
    // Every queued transaction passed CheckStateless; ProduceBlock still
    // re-verifies peg-ins (the epoch may have changed since).
    out.verified.insert(q.id);
    out.txs.push_back(std::move(q.tx));
    queue_.pop_front();
  }
  return out;
}

void Mempool::OnBlockCommitted() {
  std::lock_guard<std::mutex> lock(mu_);
  // Senders with nothing left in the queue fall back to committed state;
  // the others keep their pending nonce (their queued txs are still ahead).
  std::set<std::string> still_pending;
  for (const auto& q : queue_) still_pending.insert(SenderKey(q.tx));
  for (auto it = pending_.begin(); it != pending_.end();) {
    it = still_pending.count(it->first) ? std::next(it) : pending_.erase(it);
  }
}

size_t Mempool::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return queue_.size();
}

}  // namespace ailee::node
