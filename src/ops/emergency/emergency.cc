#include "ops/emergency/emergency.h"

#include <unistd.h>

#include <cstdlib>

#include "base/hint.h"
#include "base/user_name.h"
#include "node/client.h"

namespace ailee::ops {

std::string_view EmergencyActionName(EmergencyAction action) {
  switch (action) {
    case EmergencyAction::kHalt: return "halt";
    case EmergencyAction::kResume: return "resume";
    case EmergencyAction::kFreezePegs: return "freeze-pegs";
    case EmergencyAction::kUnfreezePegs: return "unfreeze-pegs";
  }
  return "unknown";
}

std::string DefaultOperator() {
  // sudo -u ailee (docs/operations.md, "Permission model") runs us as the
  // node's user; the person is the one who ran sudo.
  const char* sudo_user = std::getenv("SUDO_USER");
  if (sudo_user && *sudo_user) return sudo_user;
  return UserName(::getuid());
}

Result<EmergencyState> ReadEmergencyState(const std::string& node_url) {
  node::NodeClient client(node_url, "", 5000);
  ASSIGN_OR_RETURN(nlohmann::json status, client.GetJson("/v1/status"));
  if (!status.contains("emergency") || !status["emergency"].is_object()) {
    return WithHint(FailedPrecondition("node at " + node_url + " reports no emergency state in /v1/status"),
                    "it runs an ailee-node from before the emergency switches: upgrade it first");
  }
  EmergencyState s;
  s.node_id = status.value("node_id", "");
  s.role = status.value("role", "");
  s.height = status.value("height", uint64_t{0});
  s.emergency = status["emergency"];
  s.federation = status.value("federation", nlohmann::json::object());
  return s;
}

Result<EmergencyResult> RunEmergencyAction(const EmergencyOptions& o) {
  const std::string action(EmergencyActionName(o.action));
  if (o.reason.find_first_not_of(" \t\r\n") == std::string::npos) {
    return InvalidArgument(action + ": --reason is required: say why, it is audited");
  }
  if (o.operator_id.empty()) return InvalidArgument(action + ": --operator is empty: say who, it is audited");
  ASSIGN_OR_RETURN(std::string token, o.read_admin_token());
  node::NodeClient client(o.node_url, token, o.timeout_ms);
  auto answer = client.PostJson("/v1/admin/emergency",
                                {{"action", action}, {"reason", o.reason}, {"operator", o.operator_id}}, true);
  if (!answer.ok()) return answer.status().WithContext("emergency " + action);
  EmergencyResult r;
  r.height = answer->value("height", uint64_t{0});
  ASSIGN_OR_RETURN(r.state, ReadEmergencyState(o.node_url));
  return r;
}

}  // namespace ailee::ops
