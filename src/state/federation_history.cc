#include "state/federation_history.h"

#include <nlohmann/json.hpp>

#include "state/encoding.h"

namespace ailee::state {

std::string EncodeEpoch(const FederationEpoch& epoch) {
  std::string out;
  PutU64(&out, epoch.number);
  PutU64(&out, epoch.start_height);
  PutU64(&out, epoch.change_height);
  out.append(crypto::HashToString(epoch.change_tx_id));
  PutBytes(&out, epoch.change ? EncodeFederationChange(*epoch.change) : std::string());
  return out;
}

Result<FederationEpoch> DecodeEpoch(std::string_view bytes) {
  Reader r(bytes);
  FederationEpoch e;
  std::string tx_id, change;
  if (!r.U64(&e.number) || !r.U64(&e.start_height) || !r.U64(&e.change_height) || !r.Fixed(32, &tx_id) ||
      !r.Bytes(&change, 1u << 22) || !r.done()) {
    return DataLoss("federation epoch: malformed record");
  }
  std::copy(tx_id.begin(), tx_id.end(), e.change_tx_id.begin());
  auto decoded = DecodeFederationChange(change);
  if (!decoded.ok()) return DataLoss("federation epoch " + std::to_string(e.number) + ": " + decoded.status().message());
  if (e.number == 0 || e.start_height != e.change_height + 1 || decoded->activation_height != e.start_height) {
    return DataLoss("federation epoch " + std::to_string(e.number) + ": inconsistent heights");
  }
  e.federation = decoded->incoming;
  e.change = std::move(*decoded);
  return e;
}

FederationHistory::FederationHistory(Federation genesis) {
  FederationEpoch g;
  g.federation = std::move(genesis);
  epochs_.push_back(std::move(g));
}

const FederationEpoch& FederationHistory::EpochAt(uint64_t height) const {
  // Few epochs, and the block path asks for the newest: search from the end.
  for (auto it = epochs_.rbegin(); it != epochs_.rend(); ++it) {
    if (it->start_height <= height) return *it;
  }
  return epochs_.front();
}

const Federation& FederationHistory::At(uint64_t height) const { return EpochAt(height).federation; }

Status FederationHistory::CheckNext(const FederationChange& change, uint64_t including_height) const {
  if (including_height <= 1) {
    return InvalidArgument(
        "federation change: block 1 cannot carry a federation change (a change names its chain by "
        "the hash of block 1, which its own content decides); submit it once block 1 exists");
  }
  if (!chain_id_) {
    return FailedPrecondition("federation change in block " + std::to_string(including_height) +
                              ": the chain's id (the hash of its block 1) is not known, so the change cannot be "
                              "checked (is block 1 missing or damaged? run verify-state)");
  }
  if (change.chain_id != *chain_id_) {
    return InvalidArgument("federation change: approved for another chain: it names chain " +
                           crypto::HashToHex(change.chain_id).substr(0, 16) + "..., this chain is " +
                           crypto::HashToHex(*chain_id_).substr(0, 16) +
                           "... (the hash of its block 1): made on another network run with the same keys (a staging chain)? Propose the change "
                           "against this chain's node (`ailee-cli federation propose`) and have it approved again");
  }
  const FederationEpoch& current = Current();
  if (including_height < current.start_height) {
    return InvalidArgument("federation change: block " + std::to_string(including_height) +
                           " already carries a federation change (one per block)");
  }
  if (change.outgoing_epoch != current.number) {
    return InvalidArgument("federation change: made for epoch " + std::to_string(change.outgoing_epoch) +
                           ", but epoch " + std::to_string(current.number) + " is in force at height " +
                           std::to_string(including_height) + " (replayed or stale)");
  }
  return CheckChangeAuthorized(change, current.federation, including_height);
}

Status FederationHistory::Append(FederationChange change, uint64_t change_height, const crypto::Hash256& tx_id) {
  RETURN_IF_ERROR(CheckNext(change, change_height));
  FederationEpoch e;
  e.number = epochs_.size();
  e.start_height = change_height + 1;
  e.federation = change.incoming;
  e.change = std::move(change);
  e.change_height = change_height;
  e.change_tx_id = tx_id;
  epochs_.push_back(std::move(e));
  return Status::Ok();
}

std::string FederationHistory::DescribeSigner(const std::string& signer_id, uint64_t height) const {
  const FederationEpoch& at = EpochAt(height);
  if (at.federation.Find(signer_id) != nullptr) {
    return "member of epoch " + std::to_string(at.number) + " (since height " + std::to_string(at.start_height) + ")";
  }
  // The last epoch up to `height` that had it; it left at the next one.
  for (size_t k = at.number; k-- > 0;) {
    if (epochs_[k].federation.Find(signer_id) == nullptr) continue;
    const FederationEpoch& left = epochs_[k + 1];
    std::string how(ChangeAuthorizationName(left.change->authorization));
    if (!left.change->reason.empty()) how += ": " + left.change->reason;
    return "left the federation at height " + std::to_string(left.start_height) + " (epoch " +
           std::to_string(left.number) + ", " + how + ")";
  }
  for (const auto& e : epochs_) {
    if (e.start_height > height && e.federation.Find(signer_id) != nullptr) {
      return "not yet a member at height " + std::to_string(height) + " (joins at height " +
             std::to_string(e.start_height) + ", epoch " + std::to_string(e.number) + ")";
    }
  }
  return "never a member";
}

nlohmann::json FederationHistoryToJson(const FederationHistory& history) {
  nlohmann::json epochs = nlohmann::json::array();
  for (const auto& e : history.epochs()) {
    nlohmann::json signers = nlohmann::json::array();
    for (const auto& [id, key] : e.federation.signers) {
      signers.push_back({{"id", id}, {"key_fingerprint", key.FingerprintHex()}});
    }
    nlohmann::json j = {{"number", e.number},
                        {"start_height", e.start_height},
                        {"threshold", e.federation.threshold},
                        {"fingerprint", crypto::HashToHex(FederationFingerprint(e.federation))},
                        {"signers", signers}};
    if (e.change) {
      nlohmann::json approvals = nlohmann::json::array();
      for (const auto& a : e.change->approvals) approvals.push_back(a.signer_id);
      j["authorization"] = ChangeAuthorizationName(e.change->authorization);
      j["reason"] = e.change->reason;
      j["operator"] = e.change->operator_id;
      j["change_height"] = e.change_height;
      j["change_tx"] = crypto::HashToHex(e.change_tx_id);
      j["outgoing_fingerprint"] = crypto::HashToHex(e.change->outgoing_fingerprint);
      j["approvals"] = approvals;
    } else {
      j["authorization"] = "genesis";
    }
    epochs.push_back(std::move(j));
  }
  nlohmann::json out = {{"current_epoch", history.Current().number}, {"epochs", epochs}};
  if (history.chain_id()) out["chain_id"] = crypto::HashToHex(*history.chain_id());
  return out;
}

}  // namespace ailee::state
