#include "ops/copies/status.h"

#include "ops/state/point_in_time.h"
#include "ops/state/replicate.h"
#include "repo/copy.h"
#include "storage/object_store.h"

namespace ailee::ops {

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

namespace {

// A damaged segment or snapshot there is reported beside the location;
// `verify` of that location is the job that names it.
void ReadWindows(repo::Repository& repo, LocationCount& loc) {
  auto windows = ListRecoveryWindows(repo);
  if (windows.ok()) {
    loc.windows = std::move(windows).value();
  } else {
    loc.windows_status = windows.status();
  }
}

// The snapshots of another location, if it is a replica of `primary`.
Status CountLocation(repo::Repository& primary, LocationCount& loc) {
  auto store = storage::OpenObjectStore(loc.url);
  if (!store.ok()) return store.status();
  auto replica = repo::ListReplica(**store);
  if (!replica.ok()) return replica.status();
  if (replica->repo_id != primary.config().id) {
    return FailedPrecondition("holds another repository (id " + replica->repo_id.substr(0, 8) + ")");
  }
  loc.snapshots.insert(replica->snapshot_ids.begin(), replica->snapshot_ids.end());
  auto opened = primary.OpenReplica(*store);
  if (!opened.ok()) {
    loc.windows_status = opened.status();
    return Status::Ok();
  }
  ReadWindows(**opened, loc);
  return Status::Ok();
}

}  // namespace

Result<CopiesStatus> CountCopies(repo::Repository& primary, const CopiesStatusOptions& options) {
  auto listing = repo::ListSnapshots(primary);
  if (!listing.ok()) return listing.status();
  CopiesStatus out;
  out.min_copies = options.min_copies;
  std::set<std::string> seen;
  auto add = [&](const std::string& url) {
    if (!seen.insert(url).second) return;
    LocationCount loc;
    loc.url = url;
    loc.site = SiteOf(url);
    out.locations.push_back(std::move(loc));
  };
  add(options.primary_url);
  for (const auto& u : options.locations) add(u);
  for (auto& loc : out.locations) {
    if (loc.url == options.primary_url) {
      for (const auto& snap : listing->snapshots) loc.snapshots.insert(snap.id_hex());
      ReadWindows(primary, loc);
    } else {
      loc.status = CountLocation(primary, loc);
    }
    if (!loc.status.ok()) out.unreachable++;
  }
  for (auto& snap : listing->snapshots) {
    SnapshotCopies row;
    std::set<std::string> sites;
    for (const auto& loc : out.locations) {
      if (!loc.snapshots.count(snap.id_hex())) continue;
      row.locations.push_back(loc.url);
      sites.insert(loc.site);
    }
    row.sites = sites.size();
    row.enough = static_cast<int64_t>(row.locations.size()) >= options.min_copies;
    if (!row.enough) out.short_of_copies++;
    row.snapshot = std::move(snap);
    out.snapshots.push_back(std::move(row));
  }
  return out;
}

Status CopiesVerdict(const CopiesStatus& status) {
  if (status.unreachable > 0) {
    bool permanent = false;  // another repository, credentials: a retry does not help
    for (const auto& loc : status.locations) permanent |= IsPermanentLocationFailure(loc.status);
    if (permanent) return FailedPrecondition(std::to_string(status.unreachable) + " location(s) could not be counted; see above");
    return Unavailable(std::to_string(status.unreachable) + " location(s) could not be read; see above");
  }
  if (status.short_of_copies > 0) {
    return FailedPrecondition(std::to_string(status.short_of_copies) + " snapshot(s) have fewer than " +
                              std::to_string(status.min_copies) +
                              " copies; run `ailee-cli copy --to URL` for each location that lacks them");
  }
  return Status::Ok();
}

}  // namespace ailee::ops
