// copy and repo status: snapshots in several locations (the runbook's
// geographic distribution, and the 3-2-1 rule).
#include "audit/scoped_op.h"
#include "base/clock.h"
#include "cli/command.h"
#include "cli/commands.h"
#include "cli/ending.h"
#include "cli/format.h"
#include "cli/progress.h"
#include "cli/repo_session.h"
#include "ops/copies/status.h"
#include "ops/metrics/job_samples.h"
#include "ops/state/point_in_time.h"
#include "repo/copy.h"
#include "repo/snapshot.h"
#include "storage/object_store.h"

namespace ailee::cli {
namespace {

using nlohmann::json;

void SetUpCopy(CLI::App& app, Session& ses) {
  auto* cmd = app.add_subcommand(
      "copy",
      "Copy snapshots to another location (another disk, bucket or site). Only objects the destination lacks are\n"
      "transferred, byte for byte and checked against their names; nothing is re-encrypted. An empty destination\n"
      "becomes a replica of the repository (same passphrases); a destination holding another repository is refused.\n"
      "Without SNAPSHOT, every snapshot is copied.");
  auto args = std::make_shared<RepoArgs>();
  auto to = std::make_shared<std::string>();
  auto refs = std::make_shared<std::vector<std::string>>();
  cmd->add_option("--from", args->repo_url, "source repository URL (default: config backup.repository)")
      ->envname("AILEE_REPOSITORY");
  cmd->add_option("--passphrase-file", args->passphrase_file,
                  "file holding the repository passphrase (else $AILEE_REPO_PASSPHRASE, config backup.passphrase_file, or a prompt)");
  cmd->add_option("--to", *to, "destination URL (file:///path, s3://bucket/prefix)")->required();
  cmd->add_option("SNAPSHOT", *refs, "snapshot ids, unique prefixes or 'latest' (default: all)");
  cmd->callback([&ses, args, to, refs] {
    auto s = RepoSession::Open(ses, *args);
    if (!s.ok()) return EndCommand(ses, s.status());
    audit::ScopedAuditOp op(s->audit(), "repo.copy", {{"from", s->url()}, {"to", *to}, {"snapshots", *refs}});
    auto store = storage::OpenObjectStore(*to);
    if (!store.ok()) return EndCommand(ses, store.status().WithContext("--to"), op);
    repo::CopyOptions o;
    o.snapshots = *refs;
    ProgressLine progress(ses.global(), "copy");
    o.progress = [&](const repo::CopyProgress& p) { progress.Update("packs", p.bytes_done, p.bytes_total); };
    auto r = repo::CopySnapshots(s->repo(), *store, o);
    progress.Done();
    if (r.ok()) {
      for (const auto& id : r->copied_snapshot_ids) op.Touch(id);
      ses.AddMetrics(ops::metrics::CopySamples(*r));
    }
    EndCommand(
        ses, r, op,
        [&](const repo::CopyStats& c) {
          return json{{"ok", true}, {"from", s->url()}, {"to", *to}, {"created_replica", c.created_replica},
                      {"snapshots_selected", c.snapshots_selected}, {"snapshots_copied", c.snapshots_copied},
                      {"copied", c.copied_snapshot_ids}, {"packs_needed", c.packs_needed}, {"packs_copied", c.packs_copied},
                      {"bytes_copied", c.bytes_copied}, {"key_slots_copied", c.key_slots_copied}};
        },
        [&](const repo::CopyStats& c) {
          return std::string(c.created_replica ? "created a replica at " : "copied to ") + *to + ": " +
                 std::to_string(c.snapshots_copied) + " of " + std::to_string(c.snapshots_selected) +
                 " snapshots were missing; " + std::to_string(c.packs_copied) + " packs, " + HumanBytes(c.bytes_copied) +
                 " transferred";
        });
  });
}

json StatusJson(const ops::CopiesStatus& st) {
  json rows = json::array();
  for (const auto& r : st.snapshots) {
    rows.push_back({{"snapshot", r.snapshot.id_hex()}, {"time_ms", r.snapshot.time_ms}, {"kind", r.snapshot.kind},
                    {"host", r.snapshot.host}, {"copies", r.locations.size()}, {"sites", r.sites}, {"locations", r.locations},
                    {"enough", r.enough}});
  }
  json locs = json::array();
  for (const auto& loc : st.locations) {
    json j = {{"url", loc.url}, {"site", loc.site}, {"ok", loc.status.ok()}, {"snapshots", loc.snapshots.size()}};
    if (!loc.status.ok()) j["error"] = loc.status.ToString();
    if (loc.status.ok()) j["recovery_windows"] = ops::RecoveryWindowsJson(loc.windows);
    if (!loc.windows_status.ok()) j["recovery_windows_error"] = loc.windows_status.ToString();
    locs.push_back(std::move(j));
  }
  return {{"ok", st.short_of_copies == 0 && st.unreachable == 0}, {"min_copies", st.min_copies}, {"locations", locs},
          {"snapshots", rows}, {"short_of_copies", st.short_of_copies}};
}

std::string StatusText(const ops::CopiesStatus& st) {
  std::vector<std::string> lines;
  for (const auto& l : st.locations) {
    lines.push_back(std::string(l.status.ok() ? "  " : "! ") + l.url + " (" + l.site + "): " +
                    (l.status.ok() ? std::to_string(l.snapshots.size()) + " snapshots" : l.status.ToString()));
    for (const auto& w : l.windows) {
      lines.push_back("    recovery window of node " + w.node_id + ": " + ops::DescribeRecoveryWindow(w));
    }
    if (!l.windows_status.ok()) lines.push_back("    ! recovery window unknown: " + l.windows_status.ToString());
  }
  lines.push_back("snapshot      time                  kind    copies  sites");
  for (const auto& r : st.snapshots) {
    lines.push_back(std::string(r.enough ? "  " : "! ") + r.snapshot.id_hex().substr(0, 10) + "  " +
                    FormatUtc(r.snapshot.time_ms / 1000) + "  " + r.snapshot.kind +
                    std::string(8 - std::min<size_t>(7, r.snapshot.kind.size()), ' ') + std::to_string(r.locations.size()) +
                    "       " + std::to_string(r.sites));
  }
  lines.push_back(std::to_string(st.short_of_copies) + " of " + std::to_string(st.snapshots.size()) +
                  " snapshots have fewer than " + std::to_string(st.min_copies) + " copies");
  return Lines(lines);
}

void SetUpRepoStatus(CLI::App& repo_group, Session& ses) {
  auto* repo = &repo_group;
  auto* cmd = repo->add_subcommand(
      "status",
      "Show, per snapshot, in how many repositories (the primary, backup.secondary_repositories and --location)\n"
      "and in how many distinct sites it exists, and flag snapshots with fewer copies than backup.min_copies.\n"
      "Per location, the recovery window a restore from it alone reaches: per node, the oldest state snapshot\n"
      "to the last archived block (height and time).\n"
      "Exit code 0 when every snapshot has enough copies and every location answered, 1 otherwise.");
  auto args = std::make_shared<RepoArgs>();
  auto extra = std::make_shared<std::vector<std::string>>();
  auto min_copies = std::make_shared<int64_t>(0);
  AddRepoOptions(cmd, *args);
  cmd->add_option("--location", *extra, "another repository URL to count (repeatable)");
  cmd->add_option("--min-copies", *min_copies, "required copies (default: config backup.min_copies, else 1)");
  cmd->callback([&ses, args, extra, min_copies] {
    auto s = RepoSession::Open(ses, *args);
    if (!s.ok()) return EndCommand(ses, s.status());
    ops::CopiesStatusOptions o;
    o.primary_url = s->url();
    o.min_copies = *min_copies > 0 ? *min_copies : (s->config() ? s->config()->backup.min_copies : 1);
    if (s->config()) o.locations = s->config()->backup.secondary_repositories;
    o.locations.insert(o.locations.end(), extra->begin(), extra->end());
    auto st = ops::CountCopies(s->repo(), o);
    if (!st.ok()) return EndCommand(ses, st.status());
    EndWithVerdict(ses, ops::CopiesVerdict(*st), {}, [&] { return StatusJson(*st); }, [&] { return StatusText(*st); });
  });
}

}  // namespace

void SetUpCopyCommand(CLI::App& app, Session& s) { SetUpCopy(app, s); }
void SetUpRepoStatusSubcommand(CLI::App& repo, Session& s) { SetUpRepoStatus(repo, s); }

}  // namespace ailee::cli
