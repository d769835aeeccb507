#include "ops/drill/report.h"

#include <optional>

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

namespace {

// One drill report of `node_id` and `part` as its snapshot's meta records
// it; nullopt when it is not one, or its meta has a field of another type.
// The meta was written by another build or by anyone holding the
// repository key: such a report is damaged and left out (as an undecryptable
// one is), never an exception that would end the drill that reads the
// history after it ran, before its own report is stored.
std::optional<DrillHistoryEntry> HistoryEntryOf(const repo::Snapshot& s, const std::string& node_id,
                                                std::string_view part) {
  if (s.kind != kDrillReportKind || !s.meta.is_object()) return std::nullopt;
  try {
    if (s.meta.value("format", "") != kDrillReportFormat || s.meta.value("node_id", "") != node_id) return std::nullopt;
    DrillHistoryEntry e;
    e.part = s.meta.value("part", kStateDrillPart);
    if (!part.empty() && e.part != part) return std::nullopt;
    e.snapshot_id = s.id_hex();
    e.started_ms = s.meta.value("started_ms", int64_t{0});
    e.ok = s.meta.value("ok", false);
    e.failed_check = s.meta.value("failed_check", "");
    e.rto_ms = s.meta.value("rto_ms", int64_t{0});
    e.rpo_blocks = s.meta.value("rpo_blocks", uint64_t{0});
    e.rpo_ms = s.meta.value("rpo_ms", int64_t{0});
    return e;
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;
  }
}

}  // namespace

std::vector<DrillHistoryEntry> DrillHistoryOf(const repo::SnapshotListing& all, const std::string& node_id,
                                              std::string_view part) {
  std::vector<DrillHistoryEntry> out;
  for (const auto& s : all.snapshots) {
    if (auto e = HistoryEntryOf(s, node_id, part)) out.push_back(std::move(*e));
  }
  return out;
}

RecordedDrillReport RecordDrillReport(repo::Repository& repo, const DrillReport& r, const std::string& html_path) {
  RecordedDrillReport out;
  auto history = ListDrillHistory(repo, r.node_id);
  if (!history.ok()) {
    out.status = history.status().WithContext("reading the earlier drill reports to store this one");
  } else if (auto id = SaveDrillReport(repo, r); id.ok()) {
    out.id = *id;
  } else {
    out.status = id.status();
  }
  if (html_path.empty()) return out;
  Status written = fs::WriteFileAtomic(html_path, RenderDrillHtml(r, history.ok() ? *history : std::vector<DrillHistoryEntry>{}));
  if (!written.ok() && out.status.ok())
    out.status = written.WithContext("drill report " + out.id.substr(0, 12) + " is stored; writing its HTML page");
  return out;
}

}  // namespace ailee::ops
