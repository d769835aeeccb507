// What `federation propose|apply|show` read from a node's GET /v1/federation
// (state/federation_change.h FederationHistoryToJson): the epochs, oldest
// first, with their members' public keys.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "state/federation.h"

namespace ailee::ops::federation {

struct EpochView {
  uint64_t number = 0;
  uint64_t start_height = 0;
  state::Federation federation;
  std::string authorization;  // "" for genesis, else "threshold" / "break_glass"
  std::string reason, operator_id, change_tx;
  uint64_t change_height = 0;
  std::vector<std::string> approvers;  // signer ids of the change's approvals
  nlohmann::json change;               // the change record as the node holds it (null for genesis)
};

struct FederationView {
  nlohmann::json raw;  // the node's document, as it sent it
  std::vector<EpochView> epochs;
  const EpochView& current() const { return epochs.back(); }
};

// GET /v1/federation on `node_url`; kUnavailable when the node does not answer.
Result<FederationView> FetchFederation(const std::string& node_url);
Result<FederationView> FederationViewFromJson(nlohmann::json doc);

}  // namespace ailee::ops::federation
