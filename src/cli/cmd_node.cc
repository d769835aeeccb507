// health-check and sync-status: the runbook's checks against a running node.
#include <unistd.h>

#include "base/clock.h"
#include "base/hint.h"
#include "cli/command.h"
#include "cli/context.h"
#include "crypto/hash.h"
#include "node/client.h"

namespace ailee::cli {
namespace {

std::string ResolveUrl(const GlobalOptions& g, const std::string& url) {
  if (!url.empty()) return url;
  auto cfg = LoadConfigFor(g);
  return cfg.ok() ? NodeUrl(*cfg) : "http://127.0.0.1:8545";
}

void SetUpHealthCheck(CLI::App& app, GlobalOptions& g) {
  auto* cmd = app.add_subcommand("health-check",
                                 "Check that the node answers and that its state root matches its tip block.\n"
                                 "With --deep, the node also recomputes the state root from scratch (O(state)).");
  auto url = std::make_shared<std::string>();
  auto deep = std::make_shared<bool>(false);
  cmd->add_option("--url", *url, "node API URL (default: from the config's node.listen)");
  cmd->add_flag("--deep", *deep, "recompute the state root from scratch on the node");
  cmd->callback([&g, url, deep] {
    node::NodeClient client(ResolveUrl(g, *url), "", *deep ? 600000 : 5000);
    auto health = client.GetJson(*deep ? "/v1/health?deep=1" : "/v1/health");
    if (!health.ok()) {
      // 503 carries the failed checks in the body.
      if (health.status().code() == StatusCode::kUnavailable &&
          health.status().message().find("HTTP 503") != std::string::npos) {
        return SetResult(DataLoss("node unhealthy: " + health.status().message()));
      }
      return SetResult(health.status());
    }
    const auto& h = *health;
    if (g.json) {
      PrintJson(h);
    } else {
      PrintLine(g, "node " + h.value("node_id", "?") + " (" + h.value("role", "?") + ") healthy at height " +
                       std::to_string(h.value("height", 0ull)) + ", state root " + h.value("state_root", "") +
                       (*deep ? " (recomputed from scratch over " + std::to_string(h.value("entries", 0ull)) + " entries)" : ""));
    }
    SetResult(Status::Ok());
  });
}

constexpr const char* kForkHint =
    "it cannot catch up on its own: stop it, restore a snapshot taken before the fork (`ailee-cli "
    "restore SNAPSHOT --target DATA_DIR --force`) or apply a checkpoint of the leader, then start it";

// A follower whose tip is not on its leader's chain never catches up: not a
// "retry" but two signed blocks at one height, so a verification failure
// (exit 3). Ok when the chains agree or the leader cannot tell (unreachable).
Status ForkFromLeader(const nlohmann::json& status) {
  if (!status.contains("sync") || !status["sync"].contains("leader")) return Status::Ok();
  const uint64_t height = status["height"].get<uint64_t>();
  if (height == 0) return Status::Ok();
  const std::string leader = status["sync"]["leader"].get<std::string>();
  auto block = node::NodeClient(leader, "", 5000).GetJson("/v1/blocks/" + std::to_string(height));
  if (!block.ok() || !block->contains("header")) return Status::Ok();
  const std::string theirs = (*block)["header"].value("hash", "");
  const std::string ours = status.value("tip_hash", "");
  if (theirs.empty() || theirs == ours) return Status::Ok();
  return WithHint(DataLoss("node " + status.value("node_id", "") + " has forked from its leader " + leader +
                            ": its block " + std::to_string(height) + " is " + ours.substr(0, 16) +
                            ", the leader's is " + theirs.substr(0, 16)), kForkHint);
}

Status NodeReportedFork(const nlohmann::json& status) {
  return WithHint(DataLoss("node " + status.value("node_id", "") + " " + status["sync"].value("reason", "forked")),
                  kForkHint);
}

void SetUpSyncStatus(CLI::App& app, GlobalOptions& g) {
  auto* cmd = app.add_subcommand("sync-status", "Show the node's height and how far it is behind its leader.\n"
                                                "Exit 0 when synced (or a leader), 6 while catching up or unreachable, 3 when it forked from its leader.");
  auto url = std::make_shared<std::string>();
  auto wait = std::make_shared<double>(0);
  cmd->add_option("--url", *url, "node API URL (default: from the config's node.listen)");
  cmd->add_option("--wait", *wait, "wait up to this many seconds for the node to be synced");
  cmd->callback([&g, url, wait] {
    node::NodeClient client(ResolveUrl(g, *url), "", 5000);
    const int64_t deadline = Clock::Real().NowMillis() + static_cast<int64_t>(*wait * 1000);
    for (;;) {
      auto st = client.GetJson("/v1/status");
      if (st.ok()) {
        const auto& s = *st;
        std::string state = s["sync"]["state"].get<std::string>();
        bool synced = state == "leader" || state == "synced";
        const bool forked = state == "forked";  // the node found it itself: no waiting cures it
        if (synced || forked || Clock::Real().NowMillis() >= deadline) {
          if (g.json) {
            PrintJson(s);
          } else {
            std::string line = "node " + s["node_id"].get<std::string>() + ": height " + std::to_string(s["height"].get<uint64_t>()) +
                               ", " + state;
            if (s["sync"].contains("lag_blocks")) {
              line += ", leader " + s["sync"]["leader"].get<std::string>() + " at " +
                      std::to_string(s["sync"]["leader_height"].get<uint64_t>()) + ", lag " +
                      std::to_string(s["sync"]["lag_blocks"].get<uint64_t>()) + " blocks";
            }
            PrintLine(g, line);
          }
          if (forked) return SetResult(NodeReportedFork(s));
          if (!synced) {
            if (Status fork = ForkFromLeader(s); !fork.ok()) return SetResult(fork);
          }
          return SetResult(synced ? Status::Ok() : Unavailable("node is " + state + "; rerun later or with --wait"));
        }
      } else if (Clock::Real().NowMillis() >= deadline) {
        return SetResult(st.status());
      }
      usleep(200000);
    }
  });
}

}  // namespace

AILEE_REGISTER_COMMAND(health_check, "health-check", SetUpHealthCheck);
AILEE_REGISTER_COMMAND(sync_status, "sync-status", SetUpSyncStatus);

}  // namespace ailee::cli
