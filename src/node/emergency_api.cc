#include "node/emergency_api.h"

#include <chrono>

#include <httplib.h>

#include "base/clock.h"
#include "node/http_reply.h"
#include "node/node.h"

namespace ailee::node {
namespace {

using nlohmann::json;

// How long a freeze waits for the leader's next block: blocks come every
// block_interval_ms, so this is many intervals; past it the answer says so.
constexpr std::chrono::milliseconds kFreezeWait{30000};

struct ParsedRequest {
  std::string action;
  EmergencyRequest request;
};

Result<ParsedRequest> ParseRequest(const json& body) {
  ParsedRequest p;
  for (const char* field : {"action", "reason", "operator"}) {
    if (body.contains(field) && !body[field].is_string())
      return InvalidArgument(std::string(field) + ": expected a string");
  }
  p.action = body.value("action", "");
  if (p.action != "halt" && p.action != "resume" && p.action != "freeze-pegs" && p.action != "unfreeze-pegs") {
    return InvalidArgument("action: expected halt, resume, freeze-pegs or unfreeze-pegs, found \"" + p.action + "\"");
  }
  p.request.reason = body.value("reason", "");
  p.request.operator_id = body.value("operator", "");
  RETURN_IF_ERROR(CheckEmergencyRequest(p.request));
  return p;
}

// The action on this (leader) node: the height the answer reports.
Result<uint64_t> Act(Node& node, const ParsedRequest& p) {
  EmergencyControl& control = node.emergency();
  if (p.action == "halt") {
    RETURN_IF_ERROR(node.HaltProduction(p.request, Clock::Real().NowMillis()));
    return node.db().Tip().height;
  }
  if (p.action == "resume") {
    RETURN_IF_ERROR(control.Resume());
    return node.db().Tip().height;
  }
  const bool frozen = p.action == "freeze-pegs";
  RETURN_IF_ERROR(CheckPegFreezeChange(node.db(), frozen));
  return node.CommitControlRecord(state::MakePegFreezeTx(frozen, p.request.reason, p.request.operator_id),
                                  kFreezeWait);
}

void HandleEmergency(Node& node, const httplib::Request& req, httplib::Response& res) {
  if (!RequireAdmin(req, res, node)) return;
  auto body = JsonBody(req, res, R"({"action": "halt|resume|freeze-pegs|unfreeze-pegs", "reason": "...", "operator": "..."})");
  if (!body) return;
  auto parsed = ParseRequest(*body);
  if (!parsed.ok()) return ReplyError(res, parsed.status());
  if (node.is_follower()) {
    // The switches live with the block producer; a follower's would do nothing.
    return ReplyError(res, FailedPrecondition("this node is a follower: send " + parsed->action +
                                              " to its leader " + node.follow_url()));
  }
  auto height = Act(node, *parsed);
  node.AuditEmergency(parsed->action, parsed->request, height.ok() ? Status::Ok() : height.status());
  if (!height.ok()) return ReplyError(res, height.status());
  Reply(res, {{"height", *height},
              {"halted", node.emergency().halt().has_value()},
              {"pegs_frozen", node.db().PegsFrozen().has_value()}});
}

}  // namespace

void InstallEmergencyApi(httplib::Server& server, Node& node) {
  server.Post("/v1/admin/emergency",
              [&node](const httplib::Request& req, httplib::Response& res) { HandleEmergency(node, req, res); });
}

json EmergencyJson(Node& node) {
  json j = {{"halted", false}, {"pegs_frozen", false}};
  if (auto halt = node.emergency().halt()) {
    j["halted"] = true;
    j["halted_since_ms"] = halt->since_ms;
    j["halt_reason"] = halt->reason;
    j["halt_operator"] = halt->operator_id;
  }
  if (auto frozen = node.db().PegsFrozen()) {
    j["pegs_frozen"] = true;
    j["frozen_since_height"] = frozen->since_height;
    j["freeze_reason"] = frozen->reason;
    j["freeze_operator"] = frozen->operator_id;
  }
  return j;
}

Status EmergencyRefusal(Node& node, const state::Transaction* tx) {
  if (tx && (tx->type == state::TxType::kPegFreeze || tx->type == state::TxType::kFederationChange)) {
    // Their authority is the leader's admin token and block signature, not a client's say-so.
    return PermissionDenied(std::string(state::TxTypeName(tx->type)) +
                            ": control records go through the admin interface (ailee-cli emergency, federation apply)");
  }
  if (tx && (tx->type == state::TxType::kPegIn || tx->type == state::TxType::kPegOut)) {
    if (auto frozen = node.db().PegsFrozen()) {
      return FailedPrecondition("peg-ins and peg-outs are frozen since height " + std::to_string(frozen->since_height) +
                                " (reason: " + frozen->reason + "); transfers continue");
    }
  }
  if (node.is_follower()) return Status::Ok();
  if (auto halt = node.emergency().halt()) return Unavailable(DescribeHalt(*halt));
  return Status::Ok();
}

std::vector<GaugeValue> EmergencyGauges(Node& node) {
  auto history = node.db().Federations(node.federation());
  std::vector<GaugeValue> gauges = {
      {"ailee_node_halted", "1 while the leader is halted by an operator (ailee-cli emergency halt), else 0.",
       node.emergency().halt() ? 1u : 0u},
      {"ailee_node_pegs_frozen", "1 while peg-ins and peg-outs are frozen in the chain's state, else 0.",
       node.db().PegsFrozen() ? 1u : 0u}};
  // Absent rather than wrong when the history does not read.
  if (history.ok()) {
    gauges.push_back({"ailee_node_federation_epoch",
                      "Number of the federation epoch in force for the next block (0: the config's genesis federation).",
                      history->Current().number});
  }
  return gauges;
}

json FederationStatusJson(Node& node) {
  auto history = node.db().Federations(node.federation());
  if (!history.ok()) return {{"error", history.status().message()}};
  const state::FederationEpoch& current = history->Current();
  json signers = json::array();
  for (const auto& [id, key] : current.federation.signers) signers.push_back(id);
  return {{"epoch", current.number},
          {"start_height", current.start_height},
          {"threshold", current.federation.threshold},
          {"signers", signers}};
}

}  // namespace ailee::node
