// emergency halt|resume|freeze-pegs|unfreeze-pegs|status: the leader's
// emergency switches (ops/emergency/emergency.h, docs/emergency.md).
#include <memory>

#include "base/clock.h"
#include "cli/command.h"
#include "cli/commands.h"
#include "cli/ending.h"
#include "config/node_access.h"
#include "node/health_checks.h"
#include "ops/emergency/emergency.h"

namespace ailee::cli {
namespace {

using ops::EmergencyAction;

struct ActionFlags {
  std::string url;
  std::string reason;
  std::string operator_id;
};

nlohmann::ordered_json StateJson(const ops::EmergencyState& st) {
  return {{"node_id", st.node_id}, {"role", st.role},           {"height", st.height},
          {"emergency", st.emergency}, {"federation", st.federation}};
}

std::string StateText(const ops::EmergencyState& st) {
  std::vector<std::string> lines{"node " + st.node_id + " (" + st.role + ") at height " + std::to_string(st.height)};
  const nlohmann::json report = {{"emergency", st.emergency}};
  std::vector<std::string> warnings = node::EmergencyWarnings(report);
  if (!st.emergency.value("halted", false)) lines.push_back("not halted: blocks are produced");
  if (!st.emergency.value("pegs_frozen", false)) lines.push_back("pegs not frozen");
  for (const auto& w : warnings) lines.push_back(w);
  if (st.federation.contains("epoch")) {
    lines.push_back("federation epoch " + std::to_string(st.federation.value("epoch", uint64_t{0})) + " since height " +
                    std::to_string(st.federation.value("start_height", uint64_t{0})) + ", threshold " +
                    std::to_string(st.federation.value("threshold", 0)) + ", signers " +
                    st.federation.value("signers", nlohmann::json::array()).dump());
  }
  return Lines(lines);
}

void SetUpAction(CLI::App& group, Session& s, EmergencyAction action, const std::string& help) {
  auto* cmd = group.add_subcommand(std::string(ops::EmergencyActionName(action)), help);
  auto f = std::make_shared<ActionFlags>();
  cmd->add_option("--reason", f->reason, "why (required; recorded in the node's audit log and this one)");
  cmd->add_option("--operator", f->operator_id, "who asks (default: the login name, $SUDO_USER under sudo)");
  cmd->add_option("--url", f->url, "the leader's API URL (default: from the config's node.listen)");
  cmd->callback([&s, f, action] {
    const std::string name = "emergency." + std::string(ops::EmergencyActionName(action));
    const std::string operator_id = f->operator_id.empty() ? ops::DefaultOperator() : f->operator_id;
    auto log = s.audit_log();
    if (!log.ok()) return EndCommand(s, log.status());
    audit::ScopedAuditOp op(*log, name, {{"operator", operator_id}, {"reason", f->reason}, {"node", NodeUrlFor(s, f->url)}});
    ops::EmergencyOptions o;
    o.node_url = NodeUrlFor(s, f->url);
    o.action = action;
    o.reason = f->reason;
    o.operator_id = operator_id;
    o.read_admin_token = [&s]() -> Result<std::string> {
      ASSIGN_OR_RETURN(const config::NodeConfig* cfg, s.RequireConfig());
      return config::ReadAdminToken(*cfg);
    };
    auto r = ops::RunEmergencyAction(o);
    if (r.ok()) op.Touch("height:" + std::to_string(r->height));
    EndCommand(
        s, r, op,
        [&](const ops::EmergencyResult& res) {
          nlohmann::ordered_json j = {{"action", ops::EmergencyActionName(action)},
                                      {"operator", operator_id},
                                      {"reason", f->reason},
                                      {"height", res.height}};
          j.update(StateJson(res.state));
          return j;
        },
        [&](const ops::EmergencyResult& res) {
          return std::string(ops::EmergencyActionName(action)) + " done at height " + std::to_string(res.height) +
                 " (operator " + operator_id + ")\n" + StateText(res.state);
        });
  });
}

}  // namespace

void SetUpEmergencyCommand(CLI::App& app, Session& s) {
  auto* group = app.add_subcommand(
      "emergency",
      "The leader's emergency switches (docs/emergency.md), through its admin API; each action needs --reason\n"
      "and is audited with the operator and the reason.");
  group->require_subcommand(1);
  SetUpAction(*group, s, EmergencyAction::kHalt,
              "Stop the leader producing blocks (durable across restarts); reads keep working, new transactions\n"
              "are refused with the reason.");
  SetUpAction(*group, s, EmergencyAction::kResume, "Let a halted leader produce blocks again.");
  SetUpAction(*group, s, EmergencyAction::kFreezePegs,
              "Freeze peg-ins and peg-outs from the leader's next block on (chain state: followers agree);\n"
              "transfers continue. Works while halted.");
  SetUpAction(*group, s, EmergencyAction::kUnfreezePegs, "Allow peg-ins and peg-outs again (in the next block).");
  auto* status = group->add_subcommand("status", "Show whether the node is halted and its pegs frozen, and the federation epoch.");
  auto url = std::make_shared<std::string>();
  status->add_option("--url", *url, "node API URL (default: from the config's node.listen)");
  status->callback([&s, url] {
    auto st = ops::ReadEmergencyState(NodeUrlFor(s, *url));
    EndCommand(s, st, {}, StateJson, StateText);
  });
}

}  // namespace ailee::cli
