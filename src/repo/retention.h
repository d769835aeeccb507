// Retention ("forget"): which snapshots to keep, restic's semantics.
//
// Snapshots are grouped by (kind, host) and each group is judged on its own,
// newest first. keep_last keeps the N newest. keep_hourly/daily/weekly/
// monthly/yearly keep the newest snapshot of each of the last N hours/days/
// ISO weeks/months/years that have a snapshot (buckets in UTC). -1 means
// unlimited. keep_within_ms keeps everything newer than now - keep_within_ms
// (the only rule that reads the clock). A snapshot kept by any rule is kept;
// every rule that keeps it is listed as a reason.
//
// Forget only deletes snapshot objects (under a shared lock, so it may run
// beside a backup); the data they referenced is freed by prune.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "repo/lock.h"
#include "repo/repository.h"
#include "repo/snapshot.h"

namespace ailee::repo {

struct RetentionPolicy {
  int keep_last = 0;
  int keep_hourly = 0;
  int keep_daily = 0;
  int keep_weekly = 0;
  int keep_monthly = 0;
  int keep_yearly = 0;
  int64_t keep_within_ms = 0;
  bool empty() const;
};

struct ForgetDecision {
  Id snapshot_id{};
  int64_t time_ms = 0;
  std::string kind;
  std::string host;
  bool keep = false;
  std::vector<std::string> reasons;  // e.g. "last", "daily", "monthly"; empty when removed
  // Kept although no rule keeps it: the store's Object Lock forbids deleting
  // it before this time (reason "locked"). 0 otherwise.
  int64_t locked_until_ms = 0;
};

// Pure: decisions for `snapshots` (any order), newest first per group.
std::vector<ForgetDecision> ApplyRetention(const std::vector<Snapshot>& snapshots, const RetentionPolicy& policy,
                                           int64_t now_ms);

struct ForgetOptions {
  RetentionPolicy policy;
  bool dry_run = false;
  SnapshotFilter filter;  // only snapshots of this kind/host are considered
  LockOptions lock;
};

// kInvalidArgument for an empty policy (it would remove everything). On a
// store with Object Lock, a snapshot whose retention has not ended is kept
// (keep = true, reason "locked", locked_until_ms set) instead of failing.
Result<std::vector<ForgetDecision>> Forget(Repository& repo, const ForgetOptions& options);

}  // namespace ailee::repo
