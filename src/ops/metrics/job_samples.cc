#include "ops/metrics/job_samples.h"

namespace ailee::ops::metrics {
namespace {

double D(uint64_t v) { return static_cast<double>(v); }

std::vector<Sample> SnapshotSamples(const repo::BackupStats& st, const std::vector<ReplicationOutcome>& copies,
                                    int64_t min_copies) {
  uint64_t reached = 0;
  for (const auto& c : copies) reached += c.status.ok() ? 1 : 0;
  return {{"ailee_job_bytes_read", {}, D(st.bytes_read)},
          {"ailee_job_bytes_stored", {}, D(st.bytes_stored)},
          {"ailee_snapshot_age_seconds", {}, 0},
          {"ailee_snapshot_copies", {}, D(1 + reached)},
          {"ailee_snapshot_min_copies", {}, static_cast<double>(min_copies)},
          {"ailee_snapshot_locations_reached", {}, D(reached)},
          {"ailee_snapshot_locations_configured", {}, D(copies.size())}};
}

}  // namespace

std::vector<Sample> StateBackupSamples(const StateBackupResult& r, const std::vector<ReplicationOutcome>& copies,
                                       int64_t min_copies) {
  return SnapshotSamples(r.backup.stats, copies, min_copies);
}

std::vector<Sample> ConfigBackupSamples(const ConfigBackupResult& r, const std::vector<ReplicationOutcome>& copies,
                                        int64_t min_copies) {
  return SnapshotSamples(r.backup.stats, copies, min_copies);
}

std::vector<Sample> LogArchiveSamples(const LogArchiveResult& r) {
  std::vector<Sample> out = {{"ailee_job_bytes_read", {}, D(r.stats.bytes_read)},
                             {"ailee_job_bytes_stored", {}, D(r.stats.bytes_stored)},
                             {"ailee_snapshots_forgotten", {}, D(r.forgotten.size())}};
  if (!r.snapshot_id.empty()) out.push_back({"ailee_snapshot_age_seconds", {}, 0});
  return out;
}

std::vector<Sample> VerifySamples(const RepositoryVerification& v) {
  return {{"ailee_verify_ok", {}, VerdictOf(v).ok() ? 1.0 : 0.0}, {"ailee_job_bytes_read", {}, D(v.report.bytes_read)}};
}

std::vector<Sample> KeysVerifySamples(const std::string& signer_id, const keys::VerifyReport& r) {
  std::vector<Sample> out = {{"ailee_keys_verify_ok", {{"signer", signer_id}}, r.overall.ok() ? 1.0 : 0.0}};
  if (r.overall.ok()) out.push_back({"ailee_keys_verify_age_seconds", {{"signer", signer_id}}, 0});
  return out;
}

std::vector<Sample> CopySamples(const repo::CopyStats& c) { return {{"ailee_job_bytes_stored", {}, D(c.bytes_copied)}}; }

std::vector<Sample> ArchiverSamples(const ArchiverResult& r) {
  return {{"ailee_archive_height", {}, D(r.archived_height)}};
}

std::vector<Sample> ArchiveStatusSamples(const ArchiveStatus& st) {
  std::vector<Sample> out = {{"ailee_archive_height", {}, D(st.archived_height)}};
  if (st.node_reachable) out.push_back({"ailee_archive_lag_blocks", {}, D(st.lag_blocks)});
  return out;
}

std::vector<Sample> DrillSamples(const DrillReport& r) {
  return {{"ailee_drill_ok", {}, r.ok ? 1.0 : 0.0},
          {"ailee_drill_rto_seconds", {}, static_cast<double>(r.rto_ms) / 1000},
          {"ailee_drill_rpo_blocks", {}, D(r.rpo_blocks)},
          {"ailee_drill_rpo_seconds", {}, static_cast<double>(r.rpo_ms) / 1000}};
}

std::vector<Sample> KeyDrillSamples(const KeyDrillReport& r) {
  return {{"ailee_drill_keys_ok", {}, r.ok ? 1.0 : 0.0},
          {"ailee_drill_keys_rto_seconds", {}, static_cast<double>(r.rto_ms) / 1000}};
}

std::vector<Sample> ConfigDrillSamples(const ConfigDrillReport& r) {
  return {{"ailee_drill_config_ok", {}, r.ok ? 1.0 : 0.0},
          {"ailee_drill_config_rto_seconds", {}, static_cast<double>(r.rto_ms) / 1000}};
}

std::vector<Sample> ForgetSamples(const ForgetJobResult& r) {
  uint64_t forgotten = 0;
  for (const auto& d : r.decisions) forgotten += d.keep ? 0 : 1;
  std::vector<Sample> out = {{"ailee_snapshots_forgotten", {}, D(forgotten)}};
  if (r.pruned) out.push_back({"ailee_job_bytes_deleted", {}, D(r.pruned->bytes_deleted)});
  return out;
}

std::vector<Sample> PruneSamples(const repo::PruneStats& st) {
  return {{"ailee_job_bytes_deleted", {}, D(st.bytes_deleted)}};
}

}  // namespace ailee::ops::metrics
