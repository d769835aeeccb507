#include "ops/federation/node_view.h"

#include "base/hex.h"
#include "base/hint.h"
#include "state/federation_change.h"

namespace ailee::ops::federation {

namespace {

using nlohmann::json;

Result<EpochView> EpochFromJson(const json& e) {
  if (!e.is_object() || !e.contains("number") || !e["number"].is_number_unsigned() || !e.contains("start_height") ||
      !e.contains("signers") || !e["signers"].is_array() || !e.contains("fingerprint"))
    return DataLoss("epoch entry lacks number, start_height, fingerprint or signers: " + e.dump());
  EpochView v;
  v.number = e["number"].get<uint64_t>();
  v.start_height = e["start_height"].get<uint64_t>();
  v.threshold = e.value("threshold", 0);
  v.fingerprint = e.value("fingerprint", "");
  for (const auto& s : e["signers"]) v.signers[s.value("id", "")] = s.value("key_fingerprint", "");
  v.authorization = e.value("authorization", "");
  v.reason = e.value("reason", "");
  v.operator_id = e.value("operator", "");
  v.change_height = e.value("change_height", uint64_t{0});
  v.change_tx = e.value("change_tx", "");
  v.outgoing_fingerprint = e.value("outgoing_fingerprint", "");
  if (e.contains("approvals") && e["approvals"].is_array())
    for (const auto& a : e["approvals"]) v.approvals.push_back(a.is_string() ? a.get<std::string>() : a.dump());
  return v;
}

// The federation_change record of transaction `tx_id` in block `height`.
Result<state::FederationChange> ChangeInBlock(const std::string& node_url, uint64_t height, const std::string& tx_id) {
  node::NodeClient client(node_url, "", 10000);
  ASSIGN_OR_RETURN(json block, client.GetJson("/v1/blocks/" + std::to_string(height)));
  for (const auto& tx : block.value("transactions", json::array())) {
    if (tx.value("id", "") != tx_id || !tx.contains("change")) continue;
    return state::FederationChangeFromJson(tx["change"]);
  }
  return DataLoss("block " + std::to_string(height) + " from " + node_url + " holds no federation change " + tx_id);
}

}  // namespace

Result<FederationView> FederationViewFromJson(json doc) {
  if (!doc.is_object() || !doc.contains("epochs") || !doc["epochs"].is_array() || doc["epochs"].empty())
    return DataLoss("GET /v1/federation: expected {\"epochs\": [...]} with the genesis epoch first");
  FederationView view;
  view.chain_id = doc.value("chain_id", "");
  for (const auto& e : doc["epochs"]) {
    ASSIGN_OR_RETURN(EpochView v, EpochFromJson(e));
    if (v.number != view.epochs.size())
      return DataLoss("GET /v1/federation: epoch " + std::to_string(v.number) + " listed at position " +
                      std::to_string(view.epochs.size()));
    view.epochs.push_back(std::move(v));
  }
  view.raw = std::move(doc);
  return view;
}

Result<FederationView> FetchFederation(const std::string& node_url) {
  node::NodeClient client(node_url, "", 10000);
  auto doc = client.GetJson("/v1/federation");
  if (!doc.ok()) return doc.status().WithContext("reading the federation from " + node_url);
  auto view = FederationViewFromJson(std::move(*doc));
  if (!view.ok()) return view.status().WithContext("node " + node_url);
  return view;
}

Result<state::Block> FetchBlock(node::NodeClient& client, uint64_t height) {
  ASSIGN_OR_RETURN(json doc, client.GetJson("/v1/blocks/" + std::to_string(height)));
  auto raw = HexDecode(doc.value("encoded", ""));
  if (!raw) return DataLoss("block " + std::to_string(height) + ": no hex \"encoded\" block");
  ASSIGN_OR_RETURN(state::Block block, state::DecodeBlock(*raw));
  if (block.header.height != height)
    return DataLoss("asked for block " + std::to_string(height) + ", got block " + std::to_string(block.header.height));
  if (state::TxRoot(block.transactions) != block.header.tx_root)
    return DataLoss("block " + std::to_string(height) + ": its transactions do not match its tx root");
  return block;
}

Result<crypto::Hash256> FetchChainId(const std::string& node_url) {
  node::NodeClient client(node_url, "", 10000);
  auto block = FetchBlock(client, 1);
  if (block.status().code() == StatusCode::kNotFound)
    return WithHint(FailedPrecondition(node_url + " has no block 1 yet: a federation change names its chain by "
                                       "the hash of block 1"),
                    "wait for the leader's first block, then propose again");
  if (!block.ok()) return block.status().WithContext("reading the chain id (block 1) from " + node_url);
  return block->header.Hash();
}

Result<state::Federation> MembersOf(const EpochView& epoch, const std::string& node_url,
                                    const state::Federation& genesis) {
  if (epoch.number == 0) {
    const std::string have = crypto::HashToHex(state::FederationFingerprint(genesis));
    if (have != epoch.fingerprint)
      return WithHint(FailedPrecondition("the config's federation section (fingerprint " + have +
                                         ") is not the genesis federation of " + node_url + " (" + epoch.fingerprint +
                                         ")"),
                      "use the config of a node of this network; federation.signers must stay the genesis federation");
    return genesis;
  }
  auto change = ChangeInBlock(node_url, epoch.change_height, epoch.change_tx);
  if (!change.ok()) return change.status().WithContext("the members of epoch " + std::to_string(epoch.number));
  const std::string have = crypto::HashToHex(state::FederationFingerprint(change->incoming));
  if (have != epoch.fingerprint)
    return DataLoss("epoch " + std::to_string(epoch.number) + ": the change in block " +
                    std::to_string(epoch.change_height) + " has members " + have + ", the node reports " +
                    epoch.fingerprint);
  return change->incoming;
}

}  // namespace ailee::ops::federation
