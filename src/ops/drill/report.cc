#include "ops/drill/report.h"

#include "base/fs.h"
#include "ops/drill/html.h"
#include "repo/key_slots.h"
#include "repo/snapshot.h"

namespace ailee::ops {

nlohmann::ordered_json PhasesJson(const std::vector<DrillPhase>& phases) {
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  for (const auto& p : phases) out.push_back({{"name", p.name}, {"start_ms", p.start_ms}, {"duration_ms", p.duration_ms}});
  return out;
}

nlohmann::ordered_json ChecksJson(const std::vector<DrillCheck>& checks) {
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  for (const auto& c : checks) out.push_back({{"name", c.name}, {"ok", c.ok}, {"detail", c.detail}});
  return out;
}

nlohmann::ordered_json DrillOutcomeJson(const DrillOutcome& r, const std::string& part) {
  nlohmann::ordered_json j;
  j["ok"] = r.ok;
  j["part"] = part;
  j["failed_check"] = r.failed_check;
  j["started_ms"] = r.started_ms;
  j["phases"] = PhasesJson(r.phases);
  j["checks"] = ChecksJson(r.checks);
  return j;
}

nlohmann::ordered_json DrillReportJson(const DrillReport& r) {
  const nlohmann::ordered_json phases = PhasesJson(r.phases);
  const nlohmann::ordered_json checks = ChecksJson(r.checks);
  nlohmann::ordered_json targets = {{"rto_s", r.targets.rto_s}, {"rpo_s", r.targets.rpo_s}};
  targets["rpo_blocks"] = r.targets.rpo_blocks ? nlohmann::ordered_json(*r.targets.rpo_blocks) : nlohmann::ordered_json();
  return {{"format", kDrillReportFormat},
          {"ok", r.ok},
          {"failed_check", r.failed_check},
          {"node_id", r.node_id},
          {"started_ms", r.started_ms},
          {"point", r.point},
          {"seed", r.seed},
          {"snapshot", r.snapshot_id},
          {"snapshot_height", r.snapshot_height},
          {"restored_height", r.restored_height},
          {"blocks_replayed", r.blocks_replayed},
          {"restored_state_root", r.restored_state_root},
          {"network_tip", r.network_tip},
          {"proven_height", r.proven_height},
          {"anchor_height", r.anchor_height},
          {"rpo_blocks", r.rpo_blocks},
          {"rpo_ms", r.rpo_ms},
          {"rto_ms", r.rto_ms},
          {"targets", targets},
          {"phases", phases},
          {"checks", checks},
          {"sandbox", r.sandbox}};
}

namespace {

Result<std::string> SaveReportSnapshot(repo::Repository& repo, int64_t started_ms, bool ok,
                                       const nlohmann::ordered_json& meta) {
  repo::Snapshot s;
  s.time_ms = started_ms;
  s.host = repo::LocalHostname();
  s.user = repo::LocalUsername();
  s.kind = kDrillReportKind;
  s.tags = {ok ? "passed" : "failed"};
  // A detail quotes what the node or the filesystem said, bytes included;
  // JSON holds only UTF-8, so such a byte is stored as U+FFFD rather than
  // losing the (probably failed) drill's report.
  s.meta = nlohmann::json::parse(meta.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace));
  auto id = repo::SaveSnapshot(repo, s);
  if (!id.ok()) return id.status().WithContext("storing the drill report");
  return repo::IdHex(*id);
}

}  // namespace

Result<std::string> SaveDrillReport(repo::Repository& repo, const DrillReport& r) {
  return SaveReportSnapshot(repo, r.started_ms, r.ok, DrillReportJson(r));
}

Result<std::string> SaveDrillOutcome(repo::Repository& repo, const std::string& node_id, const DrillOutcome& r,
                                     nlohmann::ordered_json j) {
  j["format"] = kDrillReportFormat;
  j["node_id"] = node_id;
  return SaveReportSnapshot(repo, r.started_ms, r.ok, j);
}

Result<std::vector<DrillHistoryEntry>> ListDrillHistory(repo::Repository& repo, const std::string& node_id,
                                                        std::string_view part) {
  ASSIGN_OR_RETURN(repo::SnapshotListing all, repo::ListSnapshots(repo));
  return DrillHistoryOf(all, node_id, part);
}

std::vector<DrillHistoryEntry> DrillHistoryOf(const repo::SnapshotListing& all, const std::string& node_id,
                                              std::string_view part) {
  std::vector<DrillHistoryEntry> out;
  for (const auto& s : all.snapshots) {
    if (s.kind != kDrillReportKind || !s.meta.is_object() || s.meta.value("format", "") != kDrillReportFormat) continue;
    if (s.meta.value("node_id", "") != node_id) continue;
    const std::string its_part = s.meta.value("part", kStateDrillPart);
    if (!part.empty() && its_part != part) continue;
    DrillHistoryEntry e;
    e.snapshot_id = s.id_hex();
    e.part = its_part;
    e.started_ms = s.meta.value("started_ms", int64_t{0});
    e.ok = s.meta.value("ok", false);
    e.failed_check = s.meta.value("failed_check", "");
    e.rto_ms = s.meta.value("rto_ms", int64_t{0});
    e.rpo_blocks = s.meta.value("rpo_blocks", uint64_t{0});
    e.rpo_ms = s.meta.value("rpo_ms", int64_t{0});
    out.push_back(std::move(e));
  }
  return out;
}

Result<std::string> RecordDrillReport(repo::Repository& repo, const DrillReport& r, const std::string& html_path) {
  ASSIGN_OR_RETURN(std::vector<DrillHistoryEntry> history, ListDrillHistory(repo, r.node_id));
  ASSIGN_OR_RETURN(std::string id, SaveDrillReport(repo, r));
  if (html_path.empty()) return id;
  Status written = fs::WriteFileAtomic(html_path, RenderDrillHtml(r, history));
  if (!written.ok()) return written.WithContext("drill report " + id.substr(0, 12) + " is stored; writing its HTML page");
  return id;
}

}  // namespace ailee::ops
