// health-check and sync-status: the runbook's checks against a running node
// (node/health_checks.h).
#include "cli/command.h"
#include "cli/commands.h"
#include "cli/ending.h"
#include "node/health_checks.h"

namespace ailee::cli {
namespace {

std::string HealthLine(const nlohmann::json& h, bool deep) {
  return "node " + h.value("node_id", "?") + " (" + h.value("role", "?") + ") healthy at height " +
         std::to_string(h.value("height", 0ull)) + ", state root " + h.value("state_root", "") +
         (deep ? " (recomputed from scratch over " + std::to_string(h.value("entries", 0ull)) + " entries)" : "");
}

// The node's own line, then one line per emergency switch that is on.
std::string WithEmergency(std::string line, const nlohmann::json& report) {
  for (const auto& w : node::EmergencyWarnings(report)) line += "\nWARNING: " + w;
  return line;
}

std::string SyncLine(const nlohmann::json& s) {
  std::string line = "node " + s["node_id"].get<std::string>() + ": height " +
                     std::to_string(s["height"].get<uint64_t>()) + ", " + s["sync"]["state"].get<std::string>();
  if (s["sync"].contains("lag_blocks")) {
    line += ", leader " + s["sync"]["leader"].get<std::string>() + " at " +
            std::to_string(s["sync"]["leader_height"].get<uint64_t>()) + ", lag " +
            std::to_string(s["sync"]["lag_blocks"].get<uint64_t>()) + " blocks";
  }
  return WithEmergency(line, s);
}

}  // namespace

void SetUpHealthCheckCommand(CLI::App& app, Session& s) {
  auto* cmd = app.add_subcommand("health-check",
                                 "Check that the node answers and that its state root matches its tip block.\n"
                                 "With --deep, the node also recomputes the state root from scratch (O(state)).\n"
                                 "Exit 1 with a WARNING when the node is halted or its pegs are frozen (ailee-cli emergency).");
  auto url = std::make_shared<std::string>();
  auto deep = std::make_shared<bool>(false);
  cmd->add_option("--url", *url, "node API URL (default: from the config's node.listen)");
  cmd->add_flag("--deep", *deep, "recompute the state root from scratch on the node");
  cmd->callback([&s, url, deep] {
    auto health = node::CheckHealth(NodeUrlFor(s, *url), *deep);
    if (!health.ok()) return EndCommand(s, health.status());
    EndWithVerdict(s, node::EmergencyVerdict(*health), {}, [&] { return *health; },
                   [&] { return WithEmergency(HealthLine(*health, *deep), *health); });
  });
}

void SetUpSyncStatusCommand(CLI::App& app, Session& s) {
  auto* cmd = app.add_subcommand("sync-status", "Show the node's height and how far it is behind its leader.\n"
                                                "Exit 0 when synced (or a leader), 6 while catching up or unreachable, 3 when it forked from its leader.");
  auto url = std::make_shared<std::string>();
  auto wait = std::make_shared<double>(0);
  cmd->add_option("--url", *url, "node API URL (default: from the config's node.listen)");
  cmd->add_option("--wait", *wait, "wait up to this many seconds for the node to be synced");
  cmd->callback([&s, url, wait] {
    auto r = node::WaitForSync(NodeUrlFor(s, *url), static_cast<int64_t>(*wait * 1000));
    if (!r.ok()) return EndCommand(s, r.status());
    EndWithVerdict(s, r->verdict, {}, [&] { return r->status; }, [&] { return SyncLine(r->status); });
  });
}

}  // namespace ailee::cli
