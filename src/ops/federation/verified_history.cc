#include "ops/federation/verified_history.h"

#include "crypto/hash.h"
#include "node/client.h"
#include "ops/federation/node_view.h"
#include "state/block.h"
#include "state/transaction.h"

namespace ailee::ops::federation {

namespace {

// Epoch `epoch.number`'s change, proven by its block against `history` (the
// epochs before it, already proven), then appended to it.
Status ProveNextEpoch(node::NodeClient& client, const EpochView& epoch, state::FederationHistory& history) {
  const std::string where = "epoch " + std::to_string(epoch.number) + " (change in block " +
                            std::to_string(epoch.change_height) + ")";
  if (epoch.number != history.epochs().size()) return DataLoss(where + ": listed out of order");
  auto block = FetchBlock(client, epoch.change_height);
  if (!block.ok()) return block.status().WithContext(where);
  // The leader's signature is what vouches for a control record (transaction.h):
  // without it a break-glass change could be approved by keys of the forger's choosing.
  RETURN_IF_ERROR(state::CheckBlockSignature(block->header, history).WithContext(where));
  for (const state::Transaction& tx : block->transactions) {
    if (tx.type != state::TxType::kFederationChange || !tx.federation_change) continue;
    RETURN_IF_ERROR(
        history.Append(*tx.federation_change, epoch.change_height, state::TxId(tx)).WithContext(where));
    const std::string have = crypto::HashToHex(state::FederationFingerprint(history.Current().federation));
    if (have != epoch.fingerprint)
      return DataLoss(where + ": the change's members hash to " + have + ", the node reports " + epoch.fingerprint);
    if (history.Current().start_height != epoch.start_height)
      return DataLoss(where + ": starts at height " + std::to_string(history.Current().start_height) +
                      ", the node reports " + std::to_string(epoch.start_height));
    return Status::Ok();
  }
  return DataLoss(where + ": the block holds no federation change");
}

}  // namespace

Result<state::FederationHistory> VerifiedHistoryFrom(const std::string& node_url, const state::Federation& genesis) {
  ASSIGN_OR_RETURN(FederationView view, FetchFederation(node_url));
  // The config's genesis, or the node's fingerprint mismatch with the fix.
  RETURN_IF_ERROR(MembersOf(view.epochs.front(), node_url, genesis).status());
  node::NodeClient client(node_url, "", 10000);
  state::FederationHistory history(genesis);
  // Each change must name this chain; there is none to check before epoch 1.
  if (view.epochs.size() > 1) {
    auto chain_id = FetchChainId(node_url);
    if (!chain_id.ok())
      return chain_id.status().WithContext("the federation history of " + node_url + " does not verify");
    history.SetChainId(*chain_id);
  }
  for (size_t k = 1; k < view.epochs.size(); ++k) {
    Status proven = ProveNextEpoch(client, view.epochs[k], history);
    if (!proven.ok()) return proven.WithContext("the federation history of " + node_url + " does not verify");
  }
  return history;
}

}  // namespace ailee::ops::federation
