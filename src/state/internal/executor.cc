#include "state/internal/executor.h"

#include "base/hex.h"
#include "state/records.h"

namespace ailee::state {
namespace {

Status NonceMismatch(std::string_view who, uint64_t expected, uint64_t got) {
  return InvalidArgument("nonce: " + std::string(who) + " expects nonce " + std::to_string(expected) + ", got " +
                         std::to_string(got) + (got < expected ? " (replayed)" : " (out of order)"));
}

}  // namespace

Result<std::optional<std::string>> BlockExecutor::Get(std::string_view cf, std::string_view key) const {
  auto it = writes_.find(Key(std::string(cf), std::string(key)));
  if (it != writes_.end()) return std::optional<std::string>(it->second);
  return reader_(cf, key);
}

Status BlockExecutor::Apply(const Transaction& tx, bool signature_verified) {
  RETURN_IF_ERROR(signature_verified ? CheckShape(tx) : CheckSignature(tx, history_.At(height_)));
  if (IsPegTx(tx.type) && Frozen()) {
    return FailedPrecondition("peg-ins and peg-outs are frozen since height " + std::to_string(freeze_->height) +
                              " (reason: " + freeze_->reason + "); transfers continue");
  }
  // Writes go to a scratch map first so a failing check leaves writes_ as is.
  std::map<Key, std::string> out;
  switch (tx.type) {
    case TxType::kTransfer: RETURN_IF_ERROR(ApplyTransfer(tx, &out)); break;
    case TxType::kPegIn: RETURN_IF_ERROR(ApplyPegIn(tx, &out)); break;
    case TxType::kPegOut: RETURN_IF_ERROR(ApplyPegOut(tx, &out)); break;
    case TxType::kFederationChange:
      RETURN_IF_ERROR(ApplyFederationChange(tx, &out));
      changed_federation_ = true;
      break;
    case TxType::kPegFreeze: RETURN_IF_ERROR(ApplyPegFreeze(tx, &out)); break;
  }
  for (auto& [k, v] : out) writes_[k] = std::move(v);
  return Status::Ok();
}

Result<Account> BlockExecutor::LoadSpender(const Transaction& tx) const {
  ASSIGN_OR_RETURN(auto sender_raw, Get(kCfAccounts, tx.from));
  if (!sender_raw) return InvalidArgument("from: unknown account " + AccountIdHex(tx.from));
  ASSIGN_OR_RETURN(Account sender, DecodeAccount(*sender_raw));
  if (tx.nonce != sender.nonce) return NonceMismatch("account " + AccountIdHex(tx.from), sender.nonce, tx.nonce);
  if (sender.balance < tx.amount) {
    return InvalidArgument("amount: insufficient balance in " + AccountIdHex(tx.from) + ": have " +
                           std::to_string(sender.balance) + ", need " + std::to_string(tx.amount));
  }
  return sender;
}

Status BlockExecutor::ApplyTransfer(const Transaction& tx, std::map<Key, std::string>* out) const {
  ASSIGN_OR_RETURN(Account sender, LoadSpender(tx));
  ASSIGN_OR_RETURN(auto recipient_raw, Get(kCfAccounts, tx.to));
  Account recipient;
  if (recipient_raw) {
    ASSIGN_OR_RETURN(recipient, DecodeAccount(*recipient_raw));
  }
  if (recipient.balance > UINT64_MAX - tx.amount) {
    return InvalidArgument("amount: balance of recipient " + AccountIdHex(tx.to) + " would overflow");
  }
  sender.balance -= tx.amount;
  sender.nonce += 1;
  sender.last_height = height_;
  recipient.balance += tx.amount;
  recipient.last_height = height_;
  (*out)[Key(kCfAccounts, tx.from)] = EncodeAccount(sender);
  (*out)[Key(kCfAccounts, tx.to)] = EncodeAccount(recipient);
  return Status::Ok();
}

Status BlockExecutor::ApplyPegIn(const Transaction& tx, std::map<Key, std::string>* out) const {
  ASSIGN_OR_RETURN(auto signer_raw, Get(kCfSigners, tx.signer_id));
  SignerRecord signer;
  if (signer_raw) {
    ASSIGN_OR_RETURN(signer, DecodeSigner(*signer_raw));
  }
  if (tx.nonce != signer.nonce) return NonceMismatch("signer \"" + tx.signer_id + "\"", signer.nonce, tx.nonce);
  ASSIGN_OR_RETURN(auto existing, Get(kCfPegIns, tx.btc_txid));
  if (existing) {
    ASSIGN_OR_RETURN(PegInRecord prev, DecodePegIn(*existing));
    return InvalidArgument("btc_txid: " + HexEncode(tx.btc_txid) + " was already pegged in at height " +
                           std::to_string(prev.last_height));
  }
  ASSIGN_OR_RETURN(auto recipient_raw, Get(kCfAccounts, tx.to));
  Account recipient;
  if (recipient_raw) {
    ASSIGN_OR_RETURN(recipient, DecodeAccount(*recipient_raw));
  }
  if (recipient.balance > UINT64_MAX - tx.amount) {
    return InvalidArgument("amount: balance of recipient " + AccountIdHex(tx.to) + " would overflow");
  }
  recipient.balance += tx.amount;
  recipient.last_height = height_;
  signer.nonce += 1;
  signer.last_height = height_;
  PegInRecord rec{tx.to, tx.amount, tx.signer_id, TxId(tx), height_};
  (*out)[Key(kCfAccounts, tx.to)] = EncodeAccount(recipient);
  (*out)[Key(kCfSigners, tx.signer_id)] = EncodeSigner(signer);
  (*out)[Key(kCfPegIns, tx.btc_txid)] = EncodePegIn(rec);
  return Status::Ok();
}

Status BlockExecutor::ApplyPegOut(const Transaction& tx, std::map<Key, std::string>* out) const {
  ASSIGN_OR_RETURN(Account sender, LoadSpender(tx));
  sender.balance -= tx.amount;
  sender.nonce += 1;
  sender.last_height = height_;
  PegOutRecord rec{tx.from, tx.btc_address, tx.amount, height_};
  (*out)[Key(kCfAccounts, tx.from)] = EncodeAccount(sender);
  (*out)[Key(kCfPegOuts, crypto::HashToString(TxId(tx)))] = EncodePegOut(rec);
  return Status::Ok();
}

Status BlockExecutor::ApplyFederationChange(const Transaction& tx, std::map<Key, std::string>* out) const {
  if (changed_federation_) {
    return InvalidArgument("federation change: block " + std::to_string(height_) +
                           " already carries a federation change (one per block)");
  }
  const FederationChange& change = *tx.federation_change;
  RETURN_IF_ERROR(history_.CheckNext(change, height_));
  FederationEpoch e;
  e.number = history_.Current().number + 1;
  e.start_height = height_ + 1;
  e.federation = change.incoming;
  e.change = change;
  e.change_height = height_;
  e.change_tx_id = TxId(tx);
  (*out)[Key(kCfControl, EpochKey(e.number))] = EncodeEpochRecord(e);
  return Status::Ok();
}

Status BlockExecutor::ApplyPegFreeze(const Transaction& tx, std::map<Key, std::string>* out) {
  const PegFreeze& f = *tx.peg_freeze;
  if (f.frozen && Frozen()) {
    return FailedPrecondition("peg-ins and peg-outs are already frozen since height " +
                              std::to_string(freeze_->height) + " (reason: " + freeze_->reason + ")");
  }
  if (!f.frozen && !Frozen()) return FailedPrecondition("peg-ins and peg-outs are not frozen");
  PegFreezeRecord record{f.frozen, height_, f.reason, f.operator_id};
  (*out)[Key(kCfControl, std::string(kControlPegsFrozen))] = EncodePegFreezeRecord(record);
  freeze_ = std::move(record);
  return Status::Ok();
}

}  // namespace ailee::state
