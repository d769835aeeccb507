#include "node/signer_epoch.h"

namespace ailee::node {

Status CheckSignerKeyInChain(const state::FederationHistory& history, const std::string& signer_id,
                             const crypto::PublicKey& key) {
  const auto& epochs = history.epochs();
  for (auto it = epochs.rbegin(); it != epochs.rend(); ++it) {
    const crypto::PublicKey* listed = it->federation.Find(signer_id);
    if (listed == nullptr) continue;
    if (listed->FingerprintHex() == key.FingerprintHex()) return Status::Ok();
    return InvalidArgument("signer: the configured key (fingerprint " + key.FingerprintHex() + ") is not " + signer_id +
                           "'s key in federation epoch " + std::to_string(it->number) + " (fingerprint " +
                           listed->FingerprintHex() + ")");
  }
  return Status::Ok();
}

Status CheckMaySign(const state::FederationHistory& history, const std::string& signer_id, uint64_t height) {
  const state::FederationEpoch& epoch = history.EpochAt(height);
  if (epoch.federation.Find(signer_id) != nullptr) return Status::Ok();
  std::string members;
  for (const auto& [id, key] : epoch.federation.signers) members += (members.empty() ? "" : ", ") + id;
  return FailedPrecondition("signer " + signer_id + " may not sign block " + std::to_string(height) + ": " +
                            history.DescribeSigner(signer_id, height) + "; epoch " + std::to_string(epoch.number) +
                            " (" + members + ") signs from height " + std::to_string(epoch.start_height) +
                            ": this leader produces no blocks until its signer.id is one of them");
}

}  // namespace ailee::node
