#include "cli/replicate.h"

#include "audit/scoped_op.h"
#include "base/hint.h"
#include "cli/context.h"
#include "repo/copy.h"
#include "storage/object_store.h"

namespace ailee::cli {

std::vector<ReplicationOutcome> ReplicateToSecondaries(const GlobalOptions& g, RepoSession& session,
                                                       const std::string& snapshot_id) {
  std::vector<ReplicationOutcome> out;
  if (!session.config()) return out;
  for (const auto& url : session.config()->backup.secondary_repositories) {
    ReplicationOutcome o;
    o.url = url;
    audit::ScopedAuditOp op(session.audit(), "repo.copy",
                            {{"from", session.url()}, {"to", url}, {"snapshot", snapshot_id}, {"reason", "secondary"}});
    auto store = storage::OpenObjectStore(url);
    if (!store.ok()) {
      o.status = op.Finish(store.status());
      out.push_back(std::move(o));
      continue;
    }
    repo::CopyOptions copy;
    copy.snapshots = {snapshot_id};
    ProgressLine progress(g, "replicate");
    copy.progress = [&](const repo::CopyProgress& p) { progress.Update(url, p.bytes_done, p.bytes_total); };
    auto stats = repo::CopySnapshots(session.repo(), *store, copy);
    progress.Done();
    if (stats.ok()) {
      o.bytes_copied = stats->bytes_copied;
      o.packs_copied = stats->packs_copied;
      PrintLine(g, "replicated to " + url + ": " + std::to_string(stats->packs_copied) + " packs, " +
                       HumanBytes(stats->bytes_copied));
    }
    o.status = op.Finish(stats.status());
    out.push_back(std::move(o));
  }
  return out;
}

nlohmann::json ReplicationJson(const std::vector<ReplicationOutcome>& outcomes) {
  nlohmann::json arr = nlohmann::json::array();
  for (const auto& o : outcomes) {
    nlohmann::json j = {{"url", o.url}, {"ok", o.status.ok()}, {"bytes_copied", o.bytes_copied},
                        {"packs_copied", o.packs_copied}};
    if (!o.status.ok()) j["error"] = o.status.ToString();
    arr.push_back(std::move(j));
  }
  return arr;
}

bool IsPermanentLocationFailure(const Status& status) {
  switch (status.code()) {
    case StatusCode::kFailedPrecondition: case StatusCode::kPermissionDenied: case StatusCode::kInvalidArgument:
      return true;
    default:
      return false;
  }
}

Status ReplicationStatus(const std::vector<ReplicationOutcome>& outcomes, const std::string& snapshot_id) {
  std::string failed;
  bool permanent = false;  // a location that a retry will not fix (another repository, credentials)
  for (const auto& o : outcomes) {
    if (o.status.ok()) continue;
    failed += (failed.empty() ? "" : "; ") + o.url + ": " + o.status.ToString();
    permanent |= IsPermanentLocationFailure(o.status);
  }
  if (failed.empty()) return Status::Ok();
  std::string msg = "snapshot " + snapshot_id.substr(0, 12) +
                    " is stored in the primary repository but not yet in every secondary (" + failed + ")";
  std::string fix = "`ailee-cli copy --to URL " + snapshot_id.substr(0, 12) + "`";
  if (permanent) {
    return WithHint(FailedPrecondition(msg), "fix the location named (a location holding another repository must be "
                                            "emptied or replaced in backup.secondary_repositories), then run " + fix);
  }
  return WithHint(Unavailable(msg), "a location was unreachable; complete the copy later with " + fix);
}

}  // namespace ailee::cli
