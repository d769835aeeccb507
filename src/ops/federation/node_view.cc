#include "ops/federation/node_view.h"

#include "node/client.h"

namespace ailee::ops::federation {

namespace {

using nlohmann::json;

Result<EpochView> EpochFromJson(const json& e) {
  if (!e.is_object() || !e.contains("number") || !e.contains("start_height") || !e.contains("signers") ||
      !e["signers"].is_array())
    return InvalidArgument("epoch entry lacks number, start_height or signers: " + e.dump());
  EpochView v;
  v.number = e["number"].get<uint64_t>();
  v.start_height = e["start_height"].get<uint64_t>();
  v.federation.threshold = e.value("threshold", 1);
  for (const auto& s : e["signers"]) {
    const std::string id = s.value("id", "");
    auto key = crypto::PublicKey::FromPem(s.value("public_key_pem", ""));
    if (id.empty() || !key.ok())
      return InvalidArgument("epoch " + std::to_string(v.number) + ": signer entry without id or public_key_pem: " +
                             s.dump());
    v.federation.signers.emplace(id, std::move(*key));
  }
  v.authorization = e.value("authorization", "");
  v.reason = e.value("reason", "");
  v.operator_id = e.value("operator", "");
  v.change_height = e.value("change_height", uint64_t{0});
  v.change_tx = e.value("change_tx", "");
  if (e.contains("change") && e["change"].is_object()) {
    v.change = e["change"];
    if (v.change.contains("approvals"))
      for (const auto& a : v.change["approvals"]) v.approvers.push_back(a.value("signer_id", ""));
  }
  return v;
}

}  // namespace

Result<FederationView> FederationViewFromJson(json doc) {
  if (!doc.is_object() || !doc.contains("epochs") || !doc["epochs"].is_array() || doc["epochs"].empty())
    return InvalidArgument("GET /v1/federation: expected {\"epochs\": [...]} with the genesis epoch first");
  FederationView view;
  for (const auto& e : doc["epochs"]) {
    ASSIGN_OR_RETURN(EpochView v, EpochFromJson(e));
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

}  // namespace ailee::ops::federation
