// The node's emergency interface (docs/emergency.md, docs/api.md):
//   POST /v1/admin/emergency  {"action": "halt"|"resume"|"freeze-pegs"|"unfreeze-pegs",
//                              "reason": "...", "operator": "..."}  (admin bearer token)
//     -> {"height": H, "halted": bool, "pegs_frozen": bool}
//     400 without a reason; 403 without the token; 409 on a follower (naming
//     its leader) or when the switch is already in that position; freezes
//     answer once the block carrying the peg_freeze record is committed.
// and what /v1/status, /v1/health and /metrics show of it.
#pragma once

#include <cstdint>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "state/transaction.h"

namespace httplib { class Server; }

namespace ailee::node {

class Node;

void InstallEmergencyApi(httplib::Server& server, Node& node);

// /v1/status "emergency": {halted, halted_since_ms, halt_reason, halt_operator,
// pegs_frozen, frozen_since_height, freeze_reason, freeze_operator}.
nlohmann::json EmergencyJson(Node& node);
// /v1/status "federation": {epoch, start_height, threshold, signers: [ids]}
// (the epoch in force at the next height), or {"error": ...} when the chain's
// federation history cannot be read.
nlohmann::json FederationStatusJson(Node& node);

// Why POST /v1/tx refuses `tx` (null: it did not parse) because of an
// emergency, or ok: a halted leader refuses everything (kUnavailable, 503,
// "the federation is halted since ..."); any node refuses a peg-in or
// peg-out while pegs are frozen (kFailedPrecondition, 409, "peg-ins and
// peg-outs are frozen since height H (reason: ...); transfers continue").
Status EmergencyRefusal(Node& node, const state::Transaction* tx);

// /metrics: ailee_node_halted, ailee_node_pegs_frozen, ailee_node_federation_epoch.
struct GaugeValue {
  const char* name;
  const char* help;
  uint64_t value;
};
std::vector<GaugeValue> EmergencyGauges(Node& node);

}  // namespace ailee::node
