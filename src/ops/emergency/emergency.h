// The emergency switches of a running leader (docs/emergency.md): halt and
// resume block production, freeze and unfreeze peg-ins and peg-outs, through
// the node's admin interface (POST /v1/admin/emergency, node/emergency_api.h),
// and the state they are in (GET /v1/status "emergency").
//
// Every action needs a reason and an operator: the node records both in the
// chain (a freeze) or in its data dir (a halt) and in its audit log; the
// caller audits them too. An action that is refused changes nothing.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "base/status.h"

namespace ailee::ops {

enum class EmergencyAction { kHalt, kResume, kFreezePegs, kUnfreezePegs };
// "halt", "resume", "freeze-pegs", "unfreeze-pegs" (the CLI's and the API's word).
std::string_view EmergencyActionName(EmergencyAction action);

// Who runs the command when --operator is not given: the user who logged in
// ($SUDO_USER under sudo -u ailee), else the user name of the real uid.
std::string DefaultOperator();

struct EmergencyState {
  std::string node_id;
  std::string role;  // "leader" or "follower"
  uint64_t height = 0;
  nlohmann::json emergency;   // /v1/status "emergency" (node/emergency_api.h)
  nlohmann::json federation;  // /v1/status "federation"
};

struct EmergencyOptions {
  std::string node_url;
  // The node's admin token (the config's node.admin_token_file); read only
  // when an action is sent, never for status.
  std::function<Result<std::string>()> read_admin_token;
  EmergencyAction action = EmergencyAction::kHalt;
  std::string reason;       // required: kInvalidArgument before anything is sent
  std::string operator_id;  // required
  int timeout_ms = 60000;   // a freeze waits for the leader's next block
};

struct EmergencyResult {
  uint64_t height = 0;  // the block carrying a freeze; the tip for halt/resume
  EmergencyState state;  // after the action
};

// kInvalidArgument without a reason; kPermissionDenied with a wrong token;
// kFailedPrecondition on a follower (naming its leader) or when the switch
// is already so; kUnavailable when the node does not answer.
Result<EmergencyResult> RunEmergencyAction(const EmergencyOptions& options);

Result<EmergencyState> ReadEmergencyState(const std::string& node_url);

}  // namespace ailee::ops
