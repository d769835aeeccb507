// logs archive | restore: rotated logs into the repository and back
// (docs/log-archival.md; packaging/logrotate/ailee runs `logs archive`).
#include "audit/scoped_op.h"
#include "base/clock.h"
#include "cli/command.h"
#include "cli/commands.h"
#include "cli/ending.h"
#include "cli/format.h"
#include "cli/repo_session.h"
#include "ops/logs/archive.h"
#include "ops/metrics/job_samples.h"

namespace ailee::cli {
namespace {

using nlohmann::json;

// --older-than ("never" keeps local copies) and --keep-archive ("forever"
// forgets nothing) into `o`.
Status ParseRetention(const std::string& older, const std::string& keep_archive, ops::LogArchiveOptions* o) {
  if (older == "never") {
    o->keep_local_ms = -1;
  } else {
    auto ms = ops::ParseDurationMs(older);
    if (!ms.ok()) return ms.status().WithContext("--older-than");
    o->keep_local_ms = *ms;
  }
  if (keep_archive == "forever") {
    o->keep_archive_ms = 0;
    return Status::Ok();
  }
  auto ms = ops::ParseDurationMs(keep_archive);
  if (!ms.ok()) return ms.status().WithContext("--keep-archive");
  if (*ms <= 0) return InvalidArgument("--keep-archive must be positive (or 'forever')");
  o->keep_archive_ms = *ms;
  return Status::Ok();
}

std::string ArchiveText(const ops::LogArchiveResult& r, const std::string& dir, bool dry_run) {
  std::vector<std::string> lines;
  for (const auto& n : r.removed_local) lines.push_back(std::string(dry_run ? "would remove " : "removed ") + dir + "/" + n);
  for (const auto& d : r.forgotten) {
    lines.push_back(std::string(dry_run ? "would forget " : "forgot ") + "logs snapshot " + repo::IdHex(d.snapshot_id).substr(0, 12) +
                    " of " + FormatUtc(d.time_ms / 1000));
  }
  lines.push_back((r.archived.empty() ? std::string("no rotated logs in ") + dir
                                      : (dry_run ? "would archive " : "archived ") + std::to_string(r.archived.size()) + " rotated logs" +
                                            (r.snapshot_id.empty() ? "" : " as snapshot " + r.snapshot_id.substr(0, 12)) + " (new " +
                                            HumanBytes(r.stats.bytes_new) + ", stored " + HumanBytes(r.stats.bytes_stored) + ")") +
                  "; " + std::to_string(r.removed_local.size()) + " local copies removed, " + std::to_string(r.forgotten.size()) +
                  " snapshots forgotten");
  return Lines(lines);
}

json ArchiveJson(const ops::LogArchiveResult& r, bool dry_run) {
  json forgotten = json::array();
  for (const auto& d : r.forgotten) forgotten.push_back({{"snapshot", repo::IdHex(d.snapshot_id)}, {"time", FormatUtc(d.time_ms / 1000)}});
  return {{"snapshot", r.snapshot_id}, {"dry_run", dry_run}, {"archived", r.archived}, {"removed_local", r.removed_local},
          {"kept_changed", r.kept_changed}, {"forgotten", forgotten}, {"bytes_new", r.stats.bytes_new},
          {"bytes_stored", r.stats.bytes_stored}};
}

void SetUpLogsArchive(CLI::App* logs, Session& ses) {
  auto* cmd = logs->add_subcommand(
      "archive",
      "Store the rotated logs of DIR (*.log.N, *.log.N.gz, *.gz, the audit log's rotated segments too; never a\n"
      "live *.log) as a 'logs' snapshot, remove local copies older than --older-than once they are in the\n"
      "repository, and forget logs snapshots older than --keep-archive (run `repo prune` to free their space).");
  auto args = std::make_shared<RepoArgs>();
  auto dir = std::make_shared<std::string>();
  auto older = std::make_shared<std::string>("90d");
  auto keep_archive = std::make_shared<std::string>("7y");
  auto dry_run = std::make_shared<bool>(false);
  auto tags = std::make_shared<std::vector<std::string>>();
  AddRepoOptions(cmd, *args);
  cmd->add_option("--dir", *dir, "log directory (default: the directory of logging.log_file, else /var/log/ailee)");
  cmd->add_option("--older-than,--keep-local", *older, "remove archived local copies older than this (default 90d; 'never' keeps them)")
      ->capture_default_str();
  cmd->add_option("--keep-archive", *keep_archive, "forget logs snapshots older than this (default 7y; 'forever' keeps them)")
      ->capture_default_str();
  cmd->add_flag("--dry-run,-n", *dry_run, "show what would be archived, removed and forgotten");
  cmd->add_option("--tag", *tags, "tag the snapshot (repeatable)");
  cmd->callback([&ses, args, dir, older, keep_archive, dry_run, tags] {
    auto s = RepoSession::Open(ses, *args);
    if (!s.ok()) return EndCommand(ses, s.status());
    ops::LogArchiveOptions o = ops::LogArchiveOptionsFor(s->config(), *dir);
    o.dry_run = *dry_run;
    o.tags = *tags;
    o.audit_head = s->AuditHead();
    audit::ScopedAuditOp op(s->audit(), *dry_run ? "logs.archive.dry-run" : "logs.archive",
                            {{"repository", s->url()}, {"dir", o.dir}, {"older_than", *older}, {"keep_archive", *keep_archive}});
    if (Status parsed = ParseRetention(*older, *keep_archive, &o); !parsed.ok()) return EndCommand(ses, parsed, op);
    auto r = ops::ArchiveLogs(s->repo(), o);
    if (r.ok() && !r->snapshot_id.empty()) op.Touch(r->snapshot_id);
    if (r.ok()) {
      for (const auto& d : r->forgotten) op.Touch("forgot:" + repo::IdHex(d.snapshot_id));
      ses.AddMetrics(ops::metrics::LogArchiveSamples(*r));
    }
    EndCommand(
        ses, r, op, [&](const ops::LogArchiveResult& res) { return ArchiveJson(res, *dry_run); },
        [&](const ops::LogArchiveResult& res) { return ArchiveText(res, o.dir, *dry_run); });
  });
}

void SetUpLogsRestore(CLI::App* logs, Session& ses) {
  auto* cmd = logs->add_subcommand("restore",
                                   "Write archived logs below DIR: one snapshot's files, or every distinct file modified since DATE\n"
                                   "across all logs snapshots (a reused rotation name gets ~<sha256 prefix> appended).");
  auto args = std::make_shared<RepoArgs>();
  auto ref = std::make_shared<std::string>();
  auto since = std::make_shared<std::string>();
  auto target = std::make_shared<std::string>();
  auto host = std::make_shared<std::string>();
  AddRepoOptions(cmd, *args);
  cmd->add_option("SNAPSHOT", *ref, "logs snapshot id, prefix or 'latest'");
  cmd->add_option("--since", *since, "YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ (UTC)");
  cmd->add_option("--host", *host, "only this host's logs (default with --since: all; with 'latest': this host's)");
  cmd->add_option("--target,-t", *target, "directory to write into")->required();
  cmd->callback([&ses, args, ref, since, target, host] {
    if (ref->empty() == since->empty()) return EndCommand(ses, InvalidArgument("give either SNAPSHOT or --since DATE"));
    ops::LogRestoreOptions o;
    o.snapshot = *ref;
    o.host = *host;
    if (!since->empty()) {
      int64_t secs = 0;
      std::string text = since->size() == 10 ? *since + "T00:00:00Z" : *since;
      if (!ParseUtc(text, &secs)) return EndCommand(ses, InvalidArgument("--since '" + *since + "': expected YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ"));
      o.since_ms = secs * 1000;
    }
    auto s = RepoSession::Open(ses, *args);
    if (!s.ok()) return EndCommand(ses, s.status());
    audit::ScopedAuditOp op(s->audit(), "logs.restore", {{"repository", s->url()}, {"snapshot", *ref}, {"since", *since}, {"target", *target}});
    EndCommand(
        ses, ops::RestoreLogs(s->repo(), *target, o), op,
        [&](const ops::LogRestoreResult& r) { return json{{"target", *target}, {"files", r.files}, {"bytes", r.bytes}, {"snapshots", r.snapshots}}; },
        [&](const ops::LogRestoreResult& r) {
          return "restored " + std::to_string(r.files.size()) + " log files (" + HumanBytes(r.bytes) + ") from " +
                 std::to_string(r.snapshots) + " snapshot(s) to " + *target + ", each checked against its SHA-256";
        });
  });
}

void SetUpLogs(CLI::App& app, Session& s) {
  auto* logs = app.add_subcommand("logs", "Archive rotated logs into the repository and restore them (docs/log-archival.md)");
  logs->require_subcommand(1);
  SetUpLogsArchive(logs, s);
  SetUpLogsRestore(logs, s);
}

}  // namespace

void SetUpLogsCommand(CLI::App& app, Session& s) { SetUpLogs(app, s); }

}  // namespace ailee::cli
