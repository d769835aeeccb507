// Drill reports: their JSON form (`drill --json`, and the meta of the
// repository snapshot that keeps each one), and the history read back.
//
// A report is stored as a file-less snapshot of kind "drill-report" whose
// meta is the report's JSON ("format": "ailee.drill-report.v1"); forget and
// prune treat it like any other snapshot. The state drill's meta has no
// "part"; a key or config drill's has "part": "keys" or "config" and the
// document of `drill --keys|--config --json`. The history is every such
// snapshot of a node, oldest first.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "ops/drill/drill.h"
#include "ops/drill/steps.h"
#include "repo/repository.h"
#include "repo/snapshot.h"

namespace ailee::ops {

inline constexpr const char* kDrillReportKind = "drill-report";
inline constexpr const char* kDrillReportFormat = "ailee.drill-report.v1";

nlohmann::ordered_json DrillReportJson(const DrillReport& r);
// The phases and checks of any drill report (state, keys) as JSON arrays.
nlohmann::ordered_json PhasesJson(const std::vector<DrillPhase>& phases);
nlohmann::ordered_json ChecksJson(const std::vector<DrillCheck>& checks);
// ok, part, failed_check, started_ms, phases, checks of a key or config drill.
nlohmann::ordered_json DrillOutcomeJson(const DrillOutcome& r, const std::string& part);

inline constexpr const char* kStateDrillPart = "state";

// Saves `r` as a drill-report snapshot; its id (hex).
Result<std::string> SaveDrillReport(repo::Repository& repo, const DrillReport& r);
// Saves a key or config drill's report of node `node_id`: `j` (its JSON,
// with "part") plus "format" and "node_id"; its id (hex).
Result<std::string> SaveDrillOutcome(repo::Repository& repo, const std::string& node_id, const DrillOutcome& r,
                                     nlohmann::ordered_json j);

// One earlier drill, as its snapshot recorded it.
struct DrillHistoryEntry {
  std::string snapshot_id;
  std::string part;  // state, keys, config
  int64_t started_ms = 0;
  bool ok = false;
  std::string failed_check;
  int64_t rto_ms = 0;
  uint64_t rpo_blocks = 0;
  int64_t rpo_ms = 0;
};
// The node's drill reports of `part` (state, keys, config; "" every part),
// oldest first. Damaged snapshots are left out.
Result<std::vector<DrillHistoryEntry>> ListDrillHistory(repo::Repository& repo, const std::string& node_id,
                                                        std::string_view part = kStateDrillPart);
// The same from a listing the caller already has (no second listing).
std::vector<DrillHistoryEntry> DrillHistoryOf(const repo::SnapshotListing& listing, const std::string& node_id,
                                              std::string_view part = kStateDrillPart);

// After a drill: reads the node's earlier reports, stores `r` as a new one
// and, with `html_path`, writes the HTML page (ops/drill/html.h) there
// atomically, its trend from the earlier reports. The page is written also
// when the repository cannot be read or written (the drill's result is not
// lost with it). `status` is the first failure, with its context.
struct RecordedDrillReport {
  std::string id;  // the stored report's id (hex); empty when it was not stored
  Status status;
};
RecordedDrillReport RecordDrillReport(repo::Repository& repo, const DrillReport& r, const std::string& html_path);

}  // namespace ailee::ops
