#include "node/health_checks.h"

#include <unistd.h>

#include "base/clock.h"
#include "base/hint.h"
#include "node/client.h"

namespace ailee::node {
namespace {

constexpr const char* kForkHint =
    "it cannot catch up on its own: stop it, restore a snapshot taken before the fork (`ailee-cli "
    "restore SNAPSHOT --target DATA_DIR --force`) or apply a checkpoint of the leader, then start it";

}  // namespace

Result<nlohmann::json> CheckHealth(const std::string& url, bool deep) {
  NodeClient client(url, "", deep ? 600000 : 5000);
  auto health = client.GetJson(deep ? "/v1/health?deep=1" : "/v1/health");
  // 503 carries the failed checks in the body.
  if (!health.ok() && health.status().code() == StatusCode::kUnavailable &&
      health.status().message().find("HTTP 503") != std::string::npos) {
    // Not damage: a restored state whose background proof has not passed yet.
    if (health.status().message().find("proof running") != std::string::npos) {
      return WithHint(Unavailable("node not serving yet: " + health.status().message()),
                      "rerun when the proof has passed: GET /v1/status shows its progress under \"proof\"");
    }
    return DataLoss("node unhealthy: " + health.status().message());
  }
  return health;
}

Result<SyncReport> WaitForSync(const std::string& url, int64_t wait_ms) {
  NodeClient client(url, "", 5000);
  const int64_t deadline = Clock::Real().NowMillis() + wait_ms;
  for (;;) {
    auto st = client.GetJson("/v1/status");
    if (st.ok()) {
      const std::string state = (*st)["sync"]["state"].get<std::string>();
      const bool synced = state == "leader" || state == "synced";
      if (synced) return SyncReport{std::move(*st), Status::Ok()};
      if (state == "forked") {  // the node found it itself: no waiting cures it
        Status verdict = WithHint(DataLoss("node " + st->value("node_id", "") + " " + (*st)["sync"].value("reason", "forked")),
                                  kForkHint);
        return SyncReport{std::move(*st), std::move(verdict)};
      }
      if (Clock::Real().NowMillis() >= deadline) {
        Status fork = ForkFromLeader(*st);
        const std::string reason = (*st)["sync"].value("reason", "");
        Status verdict = !fork.ok() ? fork
                                    : Unavailable("node is " + state + (reason.empty() ? "" : " (" + reason + ")") +
                                                  "; rerun later or with --wait");
        return SyncReport{std::move(*st), std::move(verdict)};
      }
    } else if (Clock::Real().NowMillis() >= deadline) {
      return st.status();
    }
    usleep(200000);
  }
}

std::vector<std::string> EmergencyWarnings(const nlohmann::json& report) {
  std::vector<std::string> lines;
  const auto e = report.find("emergency");
  if (e == report.end() || !e->is_object()) return lines;
  if (e->value("halted", false)) {
    lines.push_back("halted since " + FormatUtc(e->value("halted_since_ms", int64_t{0}) / 1000) + " by " +
                    e->value("halt_operator", "?") + " (reason: " + e->value("halt_reason", "") +
                    "): no blocks are produced");
  }
  if (e->value("pegs_frozen", false)) {
    lines.push_back("peg-ins and peg-outs frozen since height " +
                    std::to_string(e->value("frozen_since_height", uint64_t{0})) + " by " +
                    e->value("freeze_operator", "?") + " (reason: " + e->value("freeze_reason", "") +
                    "): transfers continue");
  }
  return lines;
}

Status EmergencyVerdict(const nlohmann::json& report) {
  std::vector<std::string> lines = EmergencyWarnings(report);
  if (lines.empty()) return Status::Ok();
  std::string all;
  for (const auto& l : lines) all += (all.empty() ? "" : "; ") + l;
  return WithHint(FailedPrecondition("node " + report.value("node_id", "") + " is in an emergency state: " + all),
                  "a deliberate operator action (docs/emergency.md); when it is over: ailee-cli emergency resume / "
                  "unfreeze-pegs --reason TEXT");
}

Status ForkFromLeader(const nlohmann::json& status) {
  if (!status.contains("sync") || !status["sync"].contains("leader")) return Status::Ok();
  const uint64_t height = status["height"].get<uint64_t>();
  if (height == 0) return Status::Ok();
  const std::string leader = status["sync"]["leader"].get<std::string>();
  auto block = NodeClient(leader, "", 5000).GetJson("/v1/blocks/" + std::to_string(height));
  if (!block.ok() || !block->contains("header")) return Status::Ok();
  const std::string theirs = (*block)["header"].value("hash", "");
  const std::string ours = status.value("tip_hash", "");
  if (theirs.empty() || theirs == ours) return Status::Ok();
  return WithHint(DataLoss("node " + status.value("node_id", "") + " has forked from its leader " + leader +
                            ": its block " + std::to_string(height) + " is " + ours.substr(0, 16) +
                            ", the leader's is " + theirs.substr(0, 16)), kForkHint);
}

}  // namespace ailee::node
