#include "ops/recovery_point/backup_all.h"

#include "base/fs.h"
#include "base/hint.h"
#include "crypto/hash.h"
#include "repo/key_slots.h"

namespace ailee::ops {
namespace {

// "state snapshot 1a2b…, config snapshot 3c4d… are stored" for an error
// that stops the job part way: what is already safe.
std::string StoredSoFar(const BackupAllResult& r) {
  if (r.snapshot_ids.empty()) return "nothing was stored";
  static const char* kParts[] = {"state", "config", "logs"};
  std::string out;
  for (size_t i = 0; i < r.snapshot_ids.size() && i < 3; ++i) {
    out += (out.empty() ? "" : ", ") + std::string(kParts[i]) + " snapshot " + r.snapshot_ids[i].substr(0, 12);
  }
  return out + " stored (usable on their own); no recovery point was written";
}

std::string MetaString(const nlohmann::json& meta, const char* key) {
  if (!meta.is_object() || !meta.contains(key) || !meta[key].is_string()) return "";
  return meta[key].get<std::string>();
}

// Snapshots are JSON, which holds only UTF-8: a note typed on a Latin-1
// terminal would fail the last write, after every part is stored.
Status CheckUtf8(const BackupAllOptions& o) {
  try {
    (void)nlohmann::json{{"tags", o.tags}, {"note", o.note}}.dump();
  } catch (const nlohmann::json::type_error&) {
    return WithHint(InvalidArgument("backup all: --note or --tag is not UTF-8 text"),
                    "set the terminal's encoding to UTF-8 (LANG=C.UTF-8) or use plain ASCII");
  }
  return Status::Ok();
}

}  // namespace

Result<BackupAllResult> BackupAll(repo::Repository& repo, const BackupAllOptions& o) {
  if (o.node_id.empty()) return InvalidArgument("backup all needs the node's id (node.id in the config)");
  RETURN_IF_ERROR(CheckUtf8(o));
  BackupAllResult r;
  auto landed = [&](const char* part, const std::string& id) {
    r.snapshot_ids.push_back(id);
    if (o.on_part) o.on_part(part, id);
  };

  StateBackupOptions state = o.state;
  state.full = true;
  state.tags.insert(state.tags.end(), o.tags.begin(), o.tags.end());
  {
    auto part = BackupState(repo, state);
    if (!part.ok()) return part.status().WithContext("backup all, part 1 of 3 (state): " + StoredSoFar(r));
    r.state = std::move(part).value();
  }
  landed("state", repo::IdHex(r.state.backup.snapshot_id));

  ConfigBackupOptions config = o.config;
  config.tags.insert(config.tags.end(), o.tags.begin(), o.tags.end());
  {
    auto part = BackupConfig(repo, config);
    if (!part.ok()) return part.status().WithContext("backup all, part 2 of 3 (config): " + StoredSoFar(r));
    r.config = std::move(part).value();
  }
  landed("config", repo::IdHex(r.config.backup.snapshot_id));

  LogArchiveOptions logs = o.logs;
  logs.keep_local_ms = -1;   // a backup before maintenance removes no local log
  logs.keep_archive_ms = 0;  // and forgets no archive
  logs.dry_run = false;
  logs.tags.insert(logs.tags.end(), o.tags.begin(), o.tags.end());
  if (o.logs_optional && !fs::IsDirectory(logs.dir)) {
    r.logs_skipped = "no log directory " + logs.dir + " (logging.log_file is not set)";
  } else {
    auto part = ArchiveLogs(repo, logs);
    if (!part.ok()) return part.status().WithContext("backup all, part 3 of 3 (logs): " + StoredSoFar(r));
    r.logs = std::move(part).value();
  }
  if (!r.logs.snapshot_id.empty()) landed("logs", r.logs.snapshot_id);

  // Last: the record naming the complete set.
  repo::Snapshot point;
  point.time_ms = repo.clock().NowMillis();
  point.host = repo::LocalHostname();
  point.user = repo::LocalUsername();
  point.kind = kRecoveryPointKind;
  point.tags = o.tags;
  point.meta = {{"format", kRecoveryPointFormat},
                {"node_id", o.node_id},
                {"note", o.note},
                {"state_snapshot", r.snapshot_ids[0]},
                {"height", r.state.checkpoint.height},
                {"block_hash", crypto::HashToHex(r.state.checkpoint.block_hash)},
                {"state_root", crypto::HashToHex(r.state.checkpoint.state_root)},
                {"config_snapshot", r.snapshot_ids[1]},
                {"logs_snapshot", r.logs.snapshot_id},
                {"logs_skipped", r.logs_skipped}};
  auto id = repo::SaveSnapshot(repo, point);
  if (!id.ok()) return id.status().WithContext("backup all, the recovery point: " + StoredSoFar(r));
  r.recovery_point_id = repo::IdHex(*id);
  r.snapshot_ids.push_back(r.recovery_point_id);
  return r;
}

Result<RecoveryPoint> ReadRecoveryPoint(repo::Repository& repo, const repo::Snapshot& s) {
  if (s.kind != kRecoveryPointKind || MetaString(s.meta, "format") != kRecoveryPointFormat) {
    return InvalidArgument("snapshot " + s.id_hex().substr(0, 12) + " is a '" + s.kind + "' snapshot, not a recovery point");
  }
  RecoveryPoint p;
  p.id = s.id_hex();
  p.time_ms = s.time_ms;
  p.node_id = MetaString(s.meta, "node_id");
  p.note = MetaString(s.meta, "note");
  p.state_snapshot = MetaString(s.meta, "state_snapshot");
  p.height = s.meta.value("height", uint64_t{0});
  p.block_hash = MetaString(s.meta, "block_hash");
  p.state_root = MetaString(s.meta, "state_root");
  p.config_snapshot = MetaString(s.meta, "config_snapshot");
  p.logs_snapshot = MetaString(s.meta, "logs_snapshot");
  if (p.state_snapshot.empty() || p.config_snapshot.empty()) {
    return DataLoss("recovery point " + p.id.substr(0, 12) + " names no state or no config snapshot");
  }
  for (const std::string* part : {&p.state_snapshot, &p.config_snapshot, &p.logs_snapshot}) {
    if (part->empty()) continue;
    auto found = repo::FindSnapshot(repo, *part);
    if (found.ok()) continue;
    if (found.status().code() != StatusCode::kNotFound) return found.status().WithContext("recovery point " + p.id.substr(0, 12));
    p.missing.push_back(*part);
  }
  return p;
}

}  // namespace ailee::ops
