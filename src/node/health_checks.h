// The runbook's checks against a running node (ailee-cli health-check,
// sync-status), over its HTTP API.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"

namespace ailee::node {

// GET /v1/health: the node's report. `deep` makes the node recompute its state
// root from scratch (up to 10 minutes). An unhealthy node (HTTP 503, the
// failed checks in its body) is kDataLoss; an unreachable one, or one whose
// restored state's background proof is still running, kUnavailable.
Result<nlohmann::json> CheckHealth(const std::string& url, bool deep);

struct SyncReport {
  nlohmann::json status;  // the node's /v1/status
  // Ok when synced or a leader; kDataLoss when it forked from its leader;
  // kUnavailable while catching up.
  Status verdict;
};

// Polls /v1/status until the node is synced or `wait_ms` passed (0: once).
// An error only when the node did not answer by then.
Result<SyncReport> WaitForSync(const std::string& url, int64_t wait_ms);

// What the "emergency" object of /v1/health or /v1/status says, one line
// each ("halted since 2026-12-03T09:30:00Z by alice (reason: ...)", "peg-ins
// and peg-outs frozen since height 120 by alice (reason: ...)"); empty when
// neither (or from a node that does not report it).
std::vector<std::string> EmergencyWarnings(const nlohmann::json& report);
// health-check's verdict on a node that passed its checks: ok, or
// kFailedPrecondition (exit 1) naming each emergency switch that is on. A
// deliberate state, not damage, but never reported as plainly healthy.
Status EmergencyVerdict(const nlohmann::json& report);

// A follower whose tip is not on its leader's chain never catches up: not a
// "retry" but two signed blocks at one height, so a verification failure
// (kDataLoss). Ok when the chains agree or the leader cannot tell
// (unreachable).
Status ForkFromLeader(const nlohmann::json& status);

}  // namespace ailee::node
