// Replication of new snapshots to backup.secondary_repositories: every
// backup command calls ReplicateToSecondaries after its snapshot landed in
// the primary repository.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/status.h"
#include "cli/command.h"
#include "cli/repo_session.h"

namespace ailee::cli {

struct ReplicationOutcome {
  std::string url;
  Status status;
  uint64_t bytes_copied = 0;
  uint64_t packs_copied = 0;
};

// Copies `snapshot_id` (hex) from the session's repository to each
// secondary repository named by the config (none without a config), one
// audited repo.copy operation each. A failed location does not stop the
// others.
std::vector<ReplicationOutcome> ReplicateToSecondaries(const GlobalOptions& g, RepoSession& session,
                                                       const std::string& snapshot_id);

// [{"url","ok","error"?,"bytes_copied","packs_copied"}, ...]
nlohmann::json ReplicationJson(const std::vector<ReplicationOutcome>& outcomes);

// A location failure that a retry will not fix: the location holds another
// repository, refuses the credentials, or its URL is invalid. Anything else
// (unreachable, missing mount, full disk) may pass by itself.
bool IsPermanentLocationFailure(const Status& status);

// Ok when every location got its copy; otherwise kUnavailable (exit 6, retry)
// naming each failed location and the command that completes the copy
// later, or kFailedPrecondition (exit 1) when a failure is permanent.
Status ReplicationStatus(const std::vector<ReplicationOutcome>& outcomes, const std::string& snapshot_id);

}  // namespace ailee::cli
