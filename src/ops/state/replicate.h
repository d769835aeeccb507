// Replication of a new snapshot to backup.secondary_repositories: every
// backup command runs it once its snapshot landed in the primary repository.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "audit/audit_log.h"
#include "base/status.h"
#include "repo/copy.h"
#include "repo/repository.h"

namespace ailee::ops {

struct ReplicationOutcome {
  std::string url;
  Status status;
  uint64_t bytes_copied = 0;
  uint64_t packs_copied = 0;
};

struct ReplicateOptions {
  std::string snapshot_id;               // hex
  std::vector<std::string> secondaries;  // repository URLs
  std::string primary_url;               // for the audit record
  audit::AuditLog* audit = nullptr;      // each location is its own "repo.copy" operation when set
  std::function<void(const std::string& url, const repo::CopyProgress&)> progress;
  // Called once per location when its copy is done (or failed), in order.
  std::function<void(const ReplicationOutcome&)> on_location;
};

// Copies the snapshot from `primary` to each secondary. A failed location
// does not stop the others: one outcome per location, in order.
std::vector<ReplicationOutcome> ReplicateSnapshot(repo::Repository& primary, const ReplicateOptions& options);

// A location failure that a retry will not fix: the location holds another
// repository, refuses the credentials, or its URL is invalid. Anything else
// (unreachable, missing mount, full disk) may pass by itself.
bool IsPermanentLocationFailure(const Status& status);

// Ok when every location got its copy; otherwise kUnavailable (exit 6, retry)
// naming each failed location and the command that completes the copy
// later, or kFailedPrecondition (exit 1) when a failure is permanent.
Status ReplicationStatus(const std::vector<ReplicationOutcome>& outcomes, const std::string& snapshot_id);

}  // namespace ailee::ops
