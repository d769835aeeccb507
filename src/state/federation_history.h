// The federation's epochs: genesis (epoch 0, from the config) followed by
// every federation change committed in the chain, in order. Epoch k applies
// to the blocks at heights [start_k, start_{k+1}).
//
// StateDb keeps one in memory (rebuilt from the `control` column family on
// open, extended on commit); whole-chain verification rebuilds it from the
// verified state. Not thread-safe: callers copy or lock.
//
// A history also knows its chain's id (the hash of block 1, as the block
// archive's chain_id) once block 1 exists: every change must name it, so a
// change approved for another chain whose epoch has the same members (a
// staging network run with the production keys) is refused. A change in
// block 1 is always refused: block 1's hash depends on its own content.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "base/status.h"
#include "crypto/hash.h"
#include "state/federation.h"
#include "state/federation_change.h"

namespace ailee::state {

struct FederationEpoch {
  uint64_t number = 0;          // 0 = genesis (from the config)
  uint64_t start_height = 1;    // the first block this epoch signs
  Federation federation;
  std::optional<FederationChange> change;  // absent for genesis
  uint64_t change_height = 0;   // the block that carried the change (0 for genesis)
  crypto::Hash256 change_tx_id{};
};

// The stored form of a later epoch (control CF, key "epoch/" || u64 BE
// number): number, start_height, change_height, change_tx_id,
// EncodeFederationChange(change). The federation is the change's incoming.
std::string EncodeEpoch(const FederationEpoch& epoch);
Result<FederationEpoch> DecodeEpoch(std::string_view bytes);

class FederationHistory {
 public:
  explicit FederationHistory(Federation genesis);

  // The members who may sign block `height` (height 0 maps to genesis).
  const Federation& At(uint64_t height) const;
  const FederationEpoch& EpochAt(uint64_t height) const;
  const std::vector<FederationEpoch>& epochs() const { return epochs_; }
  const FederationEpoch& Current() const { return epochs_.back(); }

  // The hash of the chain's block 1; set by whoever has read or committed it.
  void SetChainId(const crypto::Hash256& chain_id) { chain_id_ = chain_id; }
  const std::optional<crypto::Hash256>& chain_id() const { return chain_id_; }

  // Checks that `change`, carried by block `including_height`, may follow
  // Current(): the block is not block 1, the change names this chain
  // (kInvalidArgument naming both ids; kFailedPrecondition when the chain id
  // was never set), outgoing_epoch is Current()'s number, the block comes
  // after the one that carried the last change (one change per block), and
  // CheckChangeAuthorized against Current()'s federation.
  Status CheckNext(const FederationChange& change, uint64_t including_height) const;
  // CheckNext, then adds the epoch starting at including_height + 1.
  Status Append(FederationChange change, uint64_t change_height, const crypto::Hash256& tx_id);

  // Where a signer stands at `height`, for error messages:
  //   "member of epoch 2 (since height 120)"
  //   "left the federation at height 120 (epoch 1, break_glass: <reason>)"
  //   "not yet a member at height 90 (joins at height 120, epoch 1)"
  //   "never a member"
  std::string DescribeSigner(const std::string& signer_id, uint64_t height) const;

 private:
  std::vector<FederationEpoch> epochs_;  // never empty; epochs_[k].number == k
  std::optional<crypto::Hash256> chain_id_;
};

// {"current_epoch":N,"chain_id":hex (once known),"epochs":[{"number","start_height","threshold",
//   "fingerprint","signers":[{"id","key_fingerprint"}],"authorization",
//   "reason","operator","change_height","change_tx","outgoing_fingerprint",
//   "approvals":[ids]}]}  (genesis: authorization "genesis", no change_*).
nlohmann::json FederationHistoryToJson(const FederationHistory& history);

}  // namespace ailee::state
