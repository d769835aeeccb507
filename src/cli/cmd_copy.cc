// copy and repo status: snapshots in several locations (the runbook's
// geographic distribution, and the 3-2-1 rule).
#include <map>
#include <set>

#include "audit/scoped_op.h"
#include "base/clock.h"
#include "cli/command.h"
#include "cli/commands.h"
#include "cli/context.h"
#include "cli/replicate.h"
#include "cli/repo_session.h"
#include "repo/copy.h"
#include "repo/snapshot.h"
#include "storage/object_store.h"

namespace ailee::cli {
namespace {

using nlohmann::json;

void SetUpCopy(CLI::App& app, GlobalOptions& g) {
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
  cmd->callback([&g, args, to, refs] {
    auto s = RepoSession::Open(g, *args);
    if (!s.ok()) return SetResult(s.status());
    audit::ScopedAuditOp op(s->audit(), "repo.copy", {{"from", s->url()}, {"to", *to}, {"snapshots", *refs}});
    auto store = storage::OpenObjectStore(*to);
    if (!store.ok()) return SetResult(op.Finish(store.status().WithContext("--to")));
    repo::CopyOptions o;
    o.snapshots = *refs;
    ProgressLine progress(g, "copy");
    o.progress = [&](const repo::CopyProgress& p) { progress.Update("packs", p.bytes_done, p.bytes_total); };
    auto r = repo::CopySnapshots(s->repo(), *store, o);
    progress.Done();
    if (!r.ok()) return SetResult(op.Finish(r.status()));
    for (const auto& id : r->copied_snapshot_ids) op.Touch(id);
    if (g.json) {
      PrintJson({{"ok", true}, {"from", s->url()}, {"to", *to}, {"created_replica", r->created_replica},
                 {"snapshots_selected", r->snapshots_selected}, {"snapshots_copied", r->snapshots_copied},
                 {"copied", r->copied_snapshot_ids}, {"packs_needed", r->packs_needed},
                 {"packs_copied", r->packs_copied}, {"bytes_copied", r->bytes_copied},
                 {"key_slots_copied", r->key_slots_copied}});
    }
    PrintLine(g, std::string(r->created_replica ? "created a replica at " : "copied to ") + *to + ": " +
                     std::to_string(r->snapshots_copied) + " of " + std::to_string(r->snapshots_selected) +
                     " snapshots were missing; " + std::to_string(r->packs_copied) + " packs, " +
                     HumanBytes(r->bytes_copied) + " transferred");
    SetResult(op.Finish(Status::Ok()));
  });
}

// Where a repository lives, for counting distinct locations: the local
// disk of this host, or an object-storage endpoint.
std::string SiteOf(const std::string& url) {
  auto scheme_end = url.find("://");
  if (scheme_end == std::string::npos || url.compare(0, scheme_end, "file") == 0) return "local disk";
  std::string scheme = url.substr(0, scheme_end);
  auto q = url.find("endpoint=");
  if (q != std::string::npos) {
    std::string endpoint = url.substr(q + 9);
    endpoint = endpoint.substr(0, endpoint.find('&'));
    return scheme + " " + endpoint;
  }
  return scheme + " default endpoint";
}

struct LocationState {
  std::string url;
  std::string site;
  Status status;
  std::set<std::string> snapshots;
};

void SetUpRepoStatus(CLI::App& repo_group, GlobalOptions& g) {
  auto* repo = &repo_group;
  auto* cmd = repo->add_subcommand(
      "status",
      "Show, per snapshot, in how many repositories (the primary, backup.secondary_repositories and --location)\n"
      "and in how many distinct sites it exists, and flag snapshots with fewer copies than backup.min_copies.\n"
      "Exit code 0 when every snapshot has enough copies and every location answered, 1 otherwise.");
  auto args = std::make_shared<RepoArgs>();
  auto extra = std::make_shared<std::vector<std::string>>();
  auto min_copies = std::make_shared<int64_t>(0);
  AddRepoOptions(cmd, *args);
  cmd->add_option("--location", *extra, "another repository URL to count (repeatable)");
  cmd->add_option("--min-copies", *min_copies, "required copies (default: config backup.min_copies, else 1)");
  cmd->callback([&g, args, extra, min_copies] {
    auto s = RepoSession::Open(g, *args);
    if (!s.ok()) return SetResult(s.status());
    int64_t required = *min_copies > 0 ? *min_copies : (s->config() ? s->config()->backup.min_copies : 1);
    auto listing = repo::ListSnapshots(s->repo());
    if (!listing.ok()) return SetResult(listing.status());

    std::vector<LocationState> locations;
    std::set<std::string> seen;
    auto add = [&](const std::string& url) {
      if (seen.insert(url).second) locations.push_back({url, SiteOf(url), Status::Ok(), {}});
    };
    add(s->url());
    if (s->config()) {
      for (const auto& u : s->config()->backup.secondary_repositories) add(u);
    }
    for (const auto& u : *extra) add(u);
    for (auto& loc : locations) {
      if (loc.url == s->url()) {
        for (const auto& snap : listing->snapshots) loc.snapshots.insert(snap.id_hex());
        continue;
      }
      auto store = storage::OpenObjectStore(loc.url);
      if (!store.ok()) {
        loc.status = store.status();
        continue;
      }
      auto replica = repo::ListReplica(**store);
      if (!replica.ok()) {
        loc.status = replica.status();
        continue;
      }
      if (replica->repo_id != s->repo().config().id) {
        loc.status = FailedPrecondition("holds another repository (id " + replica->repo_id.substr(0, 8) + ")");
        continue;
      }
      loc.snapshots.insert(replica->snapshot_ids.begin(), replica->snapshot_ids.end());
    }

    json rows = json::array();
    size_t short_of_copies = 0;
    for (const auto& snap : listing->snapshots) {
      std::set<std::string> sites;
      json where = json::array();
      for (const auto& loc : locations) {
        if (!loc.snapshots.count(snap.id_hex())) continue;
        where.push_back(loc.url);
        sites.insert(loc.site);
      }
      const bool enough = static_cast<int64_t>(where.size()) >= required;
      if (!enough) short_of_copies++;
      rows.push_back({{"snapshot", snap.id_hex()}, {"time_ms", snap.time_ms}, {"kind", snap.kind}, {"host", snap.host},
                      {"copies", where.size()}, {"sites", sites.size()}, {"locations", where}, {"enough", enough}});
    }
    json locs = json::array();
    size_t unreachable = 0;
    for (const auto& loc : locations) {
      json j = {{"url", loc.url}, {"site", loc.site}, {"ok", loc.status.ok()}, {"snapshots", loc.snapshots.size()}};
      if (!loc.status.ok()) {
        j["error"] = loc.status.ToString();
        unreachable++;
      }
      locs.push_back(std::move(j));
    }
    if (g.json) {
      PrintJson({{"ok", short_of_copies == 0 && unreachable == 0}, {"min_copies", required}, {"locations", locs},
                 {"snapshots", rows}, {"short_of_copies", short_of_copies}});
    } else {
      for (const auto& l : locs) {
        PrintLine(g, std::string(l["ok"].get<bool>() ? "  " : "! ") + l["url"].get<std::string>() + " (" +
                         l["site"].get<std::string>() + "): " +
                         (l["ok"].get<bool>() ? std::to_string(l["snapshots"].get<size_t>()) + " snapshots"
                                              : l["error"].get<std::string>()));
      }
      PrintLine(g, "snapshot      time                  kind    copies  sites");
      for (const auto& r : rows) {
        PrintLine(g, std::string(r["enough"].get<bool>() ? "  " : "! ") + r["snapshot"].get<std::string>().substr(0, 10) +
                         "  " + FormatUtc(r["time_ms"].get<int64_t>() / 1000) + "  " + r["kind"].get<std::string>() +
                         std::string(8 - std::min<size_t>(7, r["kind"].get<std::string>().size()), ' ') +
                         std::to_string(r["copies"].get<size_t>()) + "       " + std::to_string(r["sites"].get<size_t>()));
      }
      PrintLine(g, std::to_string(short_of_copies) + " of " + std::to_string(rows.size()) +
                       " snapshots have fewer than " + std::to_string(required) + " copies");
    }
    if (unreachable > 0) {
      bool permanent = false;  // another repository, credentials: a retry does not help
      for (const auto& loc : locations) permanent |= IsPermanentLocationFailure(loc.status);
      if (permanent) return SetResult(FailedPrecondition(std::to_string(unreachable) + " location(s) could not be counted; see above"));
      return SetResult(Unavailable(std::to_string(unreachable) + " location(s) could not be read; see above"));
    }
    if (short_of_copies > 0) {
      return SetResult(FailedPrecondition(std::to_string(short_of_copies) + " snapshot(s) have fewer than " +
                                          std::to_string(required) +
                                          " copies; run `ailee-cli copy --to URL` for each location that lacks them"));
    }
    SetResult(Status::Ok());
  });
}

}  // namespace

void SetUpCopyCommand(CLI::App& app, Session& s) { SetUpCopy(app, s.global()); }
void SetUpRepoStatusSubcommand(CLI::App& repo, Session& s) { SetUpRepoStatus(repo, s.global()); }

}  // namespace ailee::cli
