#include "ops/check/check.h"

#include <algorithm>

#include "audit/verify.h"
#include "ops/config/backup.h"
#include "ops/drill/report.h"
#include "repo/block_archive.h"
#include "repo/snapshot.h"

namespace ailee::ops {
namespace {

std::string Age(int64_t ms) {
  const int64_t s = ms / 1000;
  if (s < 120) return std::to_string(s) + "s";
  if (s < 2 * 3600) return std::to_string(s / 60) + "m";
  if (s < 2 * 86400) return std::to_string(s / 3600) + "h";
  return std::to_string(s / 86400) + "d";
}

// Clocks of the host that made a record and of the one checking may differ
// this much; beyond it a record dated in the future proves nothing.
constexpr int64_t kClockSkewMs = 5 * kMinuteMs;

// "ok: ... 12m old (limit 30m)" or "... 3h old, older than 30m". A negative
// age is below every limit: a record made while a clock ran ahead would pass
// until that date arrived, however long backups have stopped since.
CheckLine Fresh(const std::string& name, const std::string& what, int64_t age_ms, int64_t limit_ms) {
  if (age_ms < -kClockSkewMs) {
    return {name, false, false,
            what + " is dated " + Age(-age_ms) + " in the future: the clock of the host that made it, or of this one, is " +
                "wrong; fix the clock, then make a new one (and forget the misdated one)"};
  }
  age_ms = std::max<int64_t>(age_ms, 0);  // within the skew: as good as now
  CheckLine l{name, age_ms <= limit_ms, false, ""};
  l.detail = what + " is " + Age(age_ms) + " old" + (l.ok ? " (limit " + Age(limit_ms) + ")" : ", older than the limit of " + Age(limit_ms));
  return l;
}

bool OfNode(const repo::Snapshot& s, const std::string& node_id) {
  return s.meta.is_object() && s.meta.value("node_id", "") == node_id;
}

// The newest snapshot of `kind` of the node, or nullptr.
const repo::Snapshot* Newest(const repo::SnapshotListing& list, const std::string& kind, const std::string& node_id) {
  const repo::Snapshot* newest = nullptr;
  for (const auto& s : list.snapshots) {
    if (s.kind == kind && OfNode(s, node_id) && (!newest || s.time_ms >= newest->time_ms)) newest = &s;
  }
  return newest;
}

CheckLine StateLine(const repo::Snapshot* newest, const CheckOptions& o, int64_t now) {
  if (!newest) return {"state", false, false, "no state snapshot of node " + o.node_id + " in the repository; run `ailee-cli backup state`"};
  return Fresh("state", "the newest state snapshot " + newest->id_hex().substr(0, 12) + " (height " +
                            std::to_string(newest->meta.value("height", uint64_t{0})) + ")",
               now - newest->time_ms, o.max_state_age_ms);
}

CheckLine ArchiveLine(repo::Repository& repo, const CheckOptions& o, int64_t now) {
  auto tail = repo::ReadBlockArchiveTail(repo, o.node_id);
  if (!tail.ok()) return {"archive", false, false, "the block archive cannot be read: " + tail.status().ToString()};
  if (tail->height == 0) {
    return {"archive", true, true, "no block archive for node " + o.node_id + ": RPO is the backup interval (see `state`)"};
  }
  return Fresh("archive", "the block archive's last block (height " + std::to_string(tail->height) + ")",
               now - tail->timestamp_ms, o.max_archive_age_ms);
}

CheckLine CopiesLine(repo::Repository& repo, const repo::Snapshot* newest, const CheckOptions& o) {
  if (!newest) return {"copies", false, false, "no state snapshot to count copies of"};
  auto status = CountCopies(repo, o.copies);
  if (!status.ok()) return {"copies", false, false, "copies cannot be counted: " + status.status().ToString()};
  std::vector<std::string> unreachable;
  for (const auto& loc : status->locations) {
    if (!loc.status.ok()) unreachable.push_back(loc.url + " (" + loc.status.message() + ")");
  }
  size_t copies = 0;
  for (const auto& s : status->snapshots) {
    if (s.snapshot.id == newest->id) copies = s.locations.size();
  }
  CheckLine l{"copies", copies >= static_cast<size_t>(o.copies.min_copies) && unreachable.empty(), false, ""};
  l.detail = "the newest state snapshot is in " + std::to_string(copies) + " of " + std::to_string(status->locations.size()) +
             " repositories (min_copies " + std::to_string(o.copies.min_copies) + ")";
  for (const auto& u : unreachable) l.detail += "; unreachable: " + u;
  return l;
}

CheckLine ConfigLine(const repo::SnapshotListing& list, const CheckOptions& o, int64_t now) {
  const repo::Snapshot* newest = Newest(list, kConfigSnapshotKind, o.node_id);
  if (!newest) return {"config", false, false, "no config snapshot of node " + o.node_id + "; run `ailee-cli backup config`"};
  return Fresh("config", "the newest config snapshot " + newest->id_hex().substr(0, 12), now - newest->time_ms, o.max_config_age_ms);
}

CheckLine KeysLine(const CheckOptions& o, int64_t now) {
  if (o.signer_id.empty()) return {"keys", true, true, "node " + o.node_id + " has no signer"};
  if (o.audit_log.empty()) return {"keys", false, false, "no audit log configured (logging.audit_log): key verification is recorded there"};
  audit::AuditFilter filter;
  filter.operation = "key.verify";
  auto records = audit::ReadAuditLog(o.audit_log, filter);
  if (!records.ok()) return {"keys", false, false, "the audit log " + o.audit_log + " cannot be read: " + records.status().ToString()};
  int64_t last_ok_s = -1;
  for (const auto& r : *records) {
    const auto args = r.json.value("args", nlohmann::json::object());
    if (r.result == "ok" && args.is_object() && args.value("signer_id", "") == o.signer_id) {
      last_ok_s = std::max(last_ok_s, r.time_unix);
    }
  }
  if (last_ok_s < 0) {
    return {"keys", false, false, "no passing `keys verify` of signer " + o.signer_id + " in the audit log " + o.audit_log};
  }
  return Fresh("keys", "the last passing `keys verify` of signer " + o.signer_id, now - last_ok_s * 1000, o.max_key_verify_age_ms);
}

CheckLine DrillLine(const repo::SnapshotListing& list, const CheckOptions& o, int64_t now) {
  const std::vector<DrillHistoryEntry> history = DrillHistoryOf(list, o.node_id);
  const DrillHistoryEntry* newest = nullptr;
  for (const auto& e : history) {
    if (!newest || e.started_ms >= newest->started_ms) newest = &e;
  }
  if (!newest) return {"drill", false, false, "no drill report of node " + o.node_id + "; run `ailee-cli drill`"};
  CheckLine l = Fresh("drill", "the last drill " + newest->snapshot_id.substr(0, 12), now - newest->started_ms, o.max_drill_age_ms);
  if (!newest->ok) {
    l.ok = false;
    l.detail = "the last drill " + newest->snapshot_id.substr(0, 12) + " failed its check '" + newest->failed_check + "'";
  }
  return l;
}

}  // namespace

Result<CheckReport> RunChecks(repo::Repository& repo, const CheckOptions& o) {
  if (o.node_id.empty()) return InvalidArgument("check needs the node's id (node.id in the config)");
  const int64_t now = o.now_ms > 0 ? o.now_ms : repo.clock().NowMillis();
  ASSIGN_OR_RETURN(repo::SnapshotListing list, repo::ListSnapshots(repo));
  const repo::Snapshot* state = Newest(list, "state", o.node_id);
  CheckReport report;
  report.lines = {StateLine(state, o, now), ArchiveLine(repo, o, now), CopiesLine(repo, state, o), ConfigLine(list, o, now),
                  KeysLine(o, now), DrillLine(list, o, now)};
  for (const auto& l : report.lines) report.ok = report.ok && l.ok;
  return report;
}

Status CheckVerdict(const CheckReport& report) {
  std::string failed;
  for (const auto& l : report.lines) {
    if (!l.ok) failed += (failed.empty() ? "" : ", ") + l.name;
  }
  if (failed.empty()) return Status::Ok();
  return FailedPrecondition("backup checks failed: " + failed);
}

}  // namespace ailee::ops
