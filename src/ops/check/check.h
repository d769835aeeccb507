// `ailee-cli check`: the runbook's verify-backups.sh as one command for a
// monitoring system. Every check reads the repository (or the audit log)
// itself, never a cached number, so it cannot go stale:
//
//   state    the node's newest state snapshot is younger than max_state_age
//   archive  the node's block archive ends less than max_archive_age ago
//            (skipped when the node has no archive: RPO is then the backup
//            interval, which `state` checks)
//   copies   the newest state snapshot is in at least min_copies
//            repositories and every configured secondary answered
//   config   the node's newest config snapshot is younger than max_config_age
//   keys     the audit log records a passing `keys verify` for the signer
//            within max_key_verify_age (skipped for a node without a signer)
//   drill    the node's newest drill report passed and is younger than
//            max_drill_age
// A record dated more than 5 minutes after now fails its check, naming the
// clock: a snapshot made while a clock ran ahead would otherwise look fresh
// until that date, however long backups had stopped.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"
#include "ops/copies/status.h"
#include "repo/repository.h"

namespace ailee::ops {

inline constexpr int64_t kMinuteMs = 60 * 1000;

struct CheckOptions {
  std::string node_id;
  int64_t now_ms = 0;  // the repository's clock when 0
  int64_t max_state_age_ms = 30 * kMinuteMs;
  int64_t max_archive_age_ms = 15 * kMinuteMs;
  int64_t max_config_age_ms = 26 * 60 * kMinuteMs;      // daily, with slack
  int64_t max_key_verify_age_ms = 8 * 24 * 60 * kMinuteMs;  // weekly, with slack
  int64_t max_drill_age_ms = 35 * 24 * 60 * kMinuteMs;  // monthly, with slack
  CopiesStatusOptions copies;  // primary URL, secondaries, min_copies
  std::string signer_id;       // empty: the node signs nothing, `keys` is skipped
  std::string audit_log;       // where `keys verify` is recorded
};

struct CheckLine {
  std::string name;    // state, archive, copies, config, keys, drill
  bool ok = false;
  bool skipped = false;  // counts as ok; `detail` says why
  std::string detail;
};

struct CheckReport {
  std::vector<CheckLine> lines;
  bool ok = true;  // every line ok or skipped
};

// Runs every check; a check that cannot be read (a location unreachable, an
// unreadable audit log) is a failed line, not the call's error. The call
// fails only when the repository itself cannot be listed.
Result<CheckReport> RunChecks(repo::Repository& repo, const CheckOptions& options);

// Ok, or kFailedPrecondition naming the failed checks (exit 1).
Status CheckVerdict(const CheckReport& report);

}  // namespace ailee::ops
