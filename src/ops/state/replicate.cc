#include "ops/state/replicate.h"

#include "audit/scoped_op.h"
#include "base/hint.h"
#include "storage/object_store.h"

namespace ailee::ops {

std::vector<ReplicationOutcome> ReplicateSnapshot(repo::Repository& primary, const ReplicateOptions& o) {
  std::vector<ReplicationOutcome> out;
  for (const auto& url : o.secondaries) {
    ReplicationOutcome outcome;
    outcome.url = url;
    audit::ScopedAuditOp op(o.audit, "repo.copy",
                            {{"from", o.primary_url}, {"to", url}, {"snapshot", o.snapshot_id}, {"reason", "secondary"}});
    auto store = storage::OpenObjectStore(url);
    if (!store.ok()) {
      outcome.status = op.Finish(store.status());
    } else {
      repo::CopyOptions copy;
      copy.snapshots = {o.snapshot_id};
      if (o.progress) copy.progress = [&](const repo::CopyProgress& p) { o.progress(url, p); };
      auto stats = repo::CopySnapshots(primary, *store, copy);
      if (stats.ok()) {
        outcome.bytes_copied = stats->bytes_copied;
        outcome.packs_copied = stats->packs_copied;
      }
      outcome.status = op.Finish(stats.status());
    }
    if (o.on_location) o.on_location(outcome);
    out.push_back(std::move(outcome));
  }
  return out;
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

}  // namespace ailee::ops
